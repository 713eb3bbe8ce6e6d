# Two commands matter: `make run` and `make test`. Both install what is missing first.
RELEASE_DIR := build/release
DEBUG_DIR   := build/debug
JOBS        ?= $(shell nproc)
CMAKE_FLAGS := -G Ninja -Wno-dev
# Let ccache reuse objects built in another checkout (CI builds in a fresh clone).
export CCACHE_BASEDIR := $(CURDIR)
export CCACHE_NOHASHDIR := 1

.PHONY: deps build run test test-build bench format lint clean

deps:
	@scripts/install-deps.sh build test

build: deps
	@cmake -S . -B $(RELEASE_DIR) $(CMAKE_FLAGS) -DCMAKE_BUILD_TYPE=Release >/dev/null
	@cmake --build $(RELEASE_DIR) -j $(JOBS)

run: build
	$(RELEASE_DIR)/espd $(ARGS)

test-build: deps
	@cmake -S . -B $(DEBUG_DIR) $(CMAKE_FLAGS) -DCMAKE_BUILD_TYPE=Debug -DESP_SANITIZE=ON >/dev/null
	@cmake --build $(DEBUG_DIR) -j $(JOBS)

test: test-build
	ctest --test-dir $(DEBUG_DIR) --output-on-failure -j $(JOBS)

bench:
	@scripts/install-deps.sh build bench
	@$(MAKE) --no-print-directory build
	bench/run-all.sh

format:
	@scripts/format.sh --fix

lint: deps
	@cmake -S . -B $(DEBUG_DIR) $(CMAKE_FLAGS) -DCMAKE_BUILD_TYPE=Debug -DESP_SANITIZE=ON -DCMAKE_EXPORT_COMPILE_COMMANDS=ON >/dev/null
	run-clang-tidy-14 -quiet -p $(DEBUG_DIR) 'src/.*' 2>/dev/null || clang-tidy -p $(DEBUG_DIR) $$(git ls-files 'src/*.cpp')

clean:
	rm -rf build
