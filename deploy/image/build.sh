#!/usr/bin/env bash
# The image's build stage: the project's own build packages, a release build of espd, esp
# and the web assets, and the list of Debian packages their shared libraries come from.
# Usage (in the repository root): deploy/image/build.sh COMMIT
set -euo pipefail
commit=${1:-unknown}
export DEBIAN_FRONTEND=noninteractive
# npm reaches its registry over TLS, so the build needs the CA certificates first.
apt-get update -qq
apt-get install -y -qq --no-install-recommends ca-certificates >/dev/null
scripts/install-deps.sh build
cmake -S . -B build/release -G Ninja -DCMAKE_BUILD_TYPE=Release -Wno-dev \
  -DESP_BUILD_TESTS=OFF -DESP_BUILD_BENCH=OFF -DESP_GIT_COMMIT="$commit" >/dev/null
cmake --build build/release --target espd esp web_assets
deploy/image/runtime-packages.sh build/release/espd build/release/esp > build/runtime-packages.txt
echo "runtime packages: $(tr '\n' ' ' < build/runtime-packages.txt)"
