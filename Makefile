# Two commands matter: `make run` and `make test`. Both install what is missing first.
RELEASE_DIR := build/release
DEBUG_DIR   := build/debug
FUZZ_DIR    := build/fuzz
JOBS        ?= $(shell nproc)
CMAKE_FLAGS := -G Ninja -Wno-dev
# Let ccache reuse objects built in another checkout (CI builds in a fresh clone).
export CCACHE_BASEDIR := $(CURDIR)
export CCACHE_NOHASHDIR := 1

.PHONY: deps build run test test-build bench format lint clean image image-test

deps:
	@scripts/install-deps.sh build test

build: deps
	@cmake -S . -B $(RELEASE_DIR) $(CMAKE_FLAGS) -DCMAKE_BUILD_TYPE=Release >/dev/null
	@cmake --build $(RELEASE_DIR) -j $(JOBS)

run: build
	$(RELEASE_DIR)/espd $(ARGS)

# The tests run the sanitizer build, and the release espd and esp where what is checked is
# the shipped binary: the image's libraries, jobs under an address-space limit (which
# AddressSanitizer's shadow memory cannot start under). The fuzz targets (tests/fuzz) are
# built with clang, and run for a bounded time as tests.
test-build: deps
	@cmake -S . -B $(RELEASE_DIR) $(CMAKE_FLAGS) -DCMAKE_BUILD_TYPE=Release >/dev/null
	@cmake --build $(RELEASE_DIR) -j $(JOBS) --target espd esp
	@cmake -S tests/fuzz -B $(FUZZ_DIR) $(CMAKE_FLAGS) -DCMAKE_CXX_COMPILER=clang++ \
	  -DCMAKE_BUILD_TYPE=Debug >/dev/null
	@cmake --build $(FUZZ_DIR) -j $(JOBS)
	@cmake -S . -B $(DEBUG_DIR) $(CMAKE_FLAGS) -DCMAKE_BUILD_TYPE=Debug -DESP_SANITIZE=ON \
	  -DESP_RELEASE_DIR=$(CURDIR)/$(RELEASE_DIR) -DESP_FUZZ_DIR=$(CURDIR)/$(FUZZ_DIR) >/dev/null
	@cmake --build $(DEBUG_DIR) -j $(JOBS)

test: test-build
	ctest --test-dir $(DEBUG_DIR) --output-on-failure -j $(JOBS)

bench:
	@scripts/install-deps.sh build bench
	@$(MAKE) --no-print-directory build
	bench/run-all.sh

# The production image (deploy/Dockerfile) with podman/buildah; BASE_IMAGE, IMAGE and
# CA_BUNDLE are passed through (docs/deploy.md).
image:
	@scripts/install-deps.sh image
	@deploy/image/build-image.sh

image-test:
	@scripts/install-deps.sh image
	@deploy/image/test-image.sh

format:
	@scripts/format.sh --fix

lint: deps
	@cmake -S . -B $(DEBUG_DIR) $(CMAKE_FLAGS) -DCMAKE_BUILD_TYPE=Debug -DESP_SANITIZE=ON -DCMAKE_EXPORT_COMPILE_COMMANDS=ON >/dev/null
	run-clang-tidy-14 -quiet -p $(DEBUG_DIR) 'src/.*' 2>/dev/null || clang-tidy -p $(DEBUG_DIR) $$(git ls-files 'src/*.cpp')

clean:
	rm -rf build
