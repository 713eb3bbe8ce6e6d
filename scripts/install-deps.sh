#!/usr/bin/env bash
# Installs the Debian packages esp needs that are not installed yet.
# Usage: install-deps.sh [build|test|bench|image]...  (default: build test)
# Idempotent and silent when everything is present.
set -euo pipefail

build_packages=(
  build-essential cmake ninja-build ccache pkg-config git
  libboost-dev libboost-system-dev
  libgrpc++-dev libprotobuf-dev protobuf-compiler protobuf-compiler-grpc
  libspdlog-dev libfmt-dev libcli11-dev nlohmann-json3-dev
  libssl-dev libsqlite3-dev libcurl4-openssl-dev libargon2-dev libpqxx-dev libhdf5-dev libeigen3-dev libxxhash-dev
  python3-yaml
)
test_packages=(
  libgtest-dev libgmock-dev clang-format python3 python3-grpcio curl
  python3-protobuf python3-jwt python3-cryptography python3-grpc-tools python3-jsonschema python3-numpy python3-h5py
  chromium postgresql nginx-light python3-botocore clang libclang-rt-14-dev
  python3-pytest python3-tqdm python3-distributed python3-sklearn python3-matplotlib python3-venv python3-websocket
)
bench_packages=(
  libbenchmark-dev libpagmo-dev wrk nginx-light python3-deap python3-cmaes python3-flask gunicorn python3-h5py
)
image_packages=(
  podman buildah crun uidmap slirp4netns fuse-overlayfs containernetworking-plugins debootstrap curl
)

wanted=()
for set in "${@:-build test}"; do
  for name in $set; do
    case "$name" in
      build) wanted+=("${build_packages[@]}") ;;
      test) wanted+=("${test_packages[@]}") ;;
      bench) wanted+=("${bench_packages[@]}") ;;
      image) wanted+=("${image_packages[@]}") ;;
      *) echo "install-deps.sh: unknown package set '$name'" >&2; exit 2 ;;
    esac
  done
done

missing=()
for pkg in "${wanted[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$pkg")
done
# The build installs Swagger UI with npm; any Node.js install that brings npm will do
# (Debian's npm package conflicts with NodeSource's nodejs, which bundles it).
if [[ " ${wanted[*]} " == *" cmake "* ]] && ! command -v npm >/dev/null; then
  missing+=(npm)
fi
[[ ${#missing[@]} -eq 0 ]] && exit 0

sudo=()
if [[ $(id -u) -ne 0 ]]; then
  command -v sudo >/dev/null || { echo "install-deps.sh: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
  sudo=(sudo)
fi
echo "Installing Debian packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
