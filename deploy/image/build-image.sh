#!/usr/bin/env bash
# Builds the production image from this checkout with buildah (podman's builder).
# Environment: IMAGE (default localhost/esp:<commit>), BASE_IMAGE (default debian:12-slim),
# CA_BUNDLE (an extra CA bundle for apt and npm, passed as a build secret),
# BUILD_ISOLATION (oci, rootless or chroot; default: chroot where containers cannot run).
# Prints the image name on its last line.
set -euo pipefail
cd "$(dirname "$0")/../.."
commit=$(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
image=${IMAGE:-localhost/esp:$commit}
base=${BASE_IMAGE:-debian:12-slim}

if command -v buildah >/dev/null; then build=(buildah bud); else build=(podman build); fi
if ! podman image exists "$base" 2>/dev/null && ! podman pull -q "$base" >/dev/null 2>&1; then
  echo "build-image.sh: base image $base is neither local nor reachable; make one with" >&2
  echo "  deploy/image/debootstrap-base.sh localhost/debian:12-slim" >&2
  echo "and pass BASE_IMAGE=localhost/debian:12-slim" >&2
  exit 1
fi
isolation=${BUILD_ISOLATION:-}
# A sandbox without user namespaces or rlimit changes cannot start OCI containers; the
# chroot isolation still runs each step, as root, in the image's filesystem.
if [[ -z $isolation ]] && ! podman run --rm --network=none "$base" true >/dev/null 2>&1; then
  isolation=chroot
fi
# Docker's image format: the OCI one has no HEALTHCHECK and drops it.
args=(--layers --format docker -f deploy/Dockerfile -t "$image"
      --build-arg "BASE_IMAGE=$base" --build-arg "ESP_COMMIT=$commit")
[[ -n $isolation ]] && args+=(--isolation "$isolation")
[[ -n ${CA_BUNDLE:-} ]] && args+=(--secret "id=extra-ca,src=$CA_BUNDLE")
"${build[@]}" "${args[@]}" . >&2
echo "$image"
