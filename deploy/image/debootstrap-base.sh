#!/usr/bin/env bash
# Makes a Debian 12 base image without a container registry: debootstrap (minbase) from
# the machine's own Debian mirror, trimmed as debian:12-slim is, imported into the local
# image store under the name given (default localhost/debian:12-slim).
# Usage: deploy/image/debootstrap-base.sh [IMAGE-NAME]   (as root; needs debootstrap and podman)
set -euo pipefail
name=${1:-localhost/debian:12-slim}
mirror=${DEBIAN_MIRROR:-$(awk '/^URIs:/ {print $2; exit} /^deb / {print $2; exit}' \
  /etc/apt/sources.list.d/debian.sources /etc/apt/sources.list 2>/dev/null || true)}
mirror=${mirror:-http://deb.debian.org/debian}
root=$(mktemp -d /var/tmp/esp-base.XXXXXX)
trap 'rm -rf "$root"' EXIT
debootstrap --variant=minbase bookworm "$root" "$mirror" >/dev/null
# The slim image's trims: no documentation, manuals or locales beyond C, no apt lists.
rm -rf "$root"/usr/share/doc/* "$root"/usr/share/man/* "$root"/usr/share/info/* \
       "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin "$root"/var/log/*.log
tar -C "$root" -c . | podman import --change 'CMD ["bash"]' - "$name" >/dev/null
echo "$name"
