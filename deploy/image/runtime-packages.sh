#!/usr/bin/env bash
# Prints the Debian packages that own every shared library the given binaries load (as
# ldd resolves them), one a line, sorted: the image's runtime stage installs exactly these.
# With --owners, prints "LIBRARY PACKAGE" lines instead.
# Fails, naming the library, when one is not found or belongs to no package.
# Usage: deploy/image/runtime-packages.sh [--owners] BINARY...
set -euo pipefail
owners=false
[[ ${1:-} == --owners ]] && { owners=true; shift; }

mapfile -t libraries < <(ldd "$@" | awk '
  /=> not found/ { print "not-found:" $1; next }
  /=> \//        { print $3; next }
  /^\t\//        { print $1 }' | sort -u)
status=0
for library in "${libraries[@]}"; do
  [[ $library == not-found:* ]] || continue
  echo "runtime-packages.sh: ${library#not-found:} is not found by ldd" >&2
  status=1
done
[[ $status -eq 0 ]] || exit 1

# dpkg knows each file under the path its package installed; with merged /usr a library
# may be loaded as /lib/... or /usr/lib/..., or through a symlink. Ask once for every name.
declare -A names=()
for library in "${libraries[@]}"; do
  real=$(readlink -f "$library")
  for name in "$library" "/usr$library" "${library#/usr}" "$real" "/usr$real" "${real#/usr}"; do
    names[$name]=1
  done
done
declare -A package_of=()
while IFS= read -r line; do
  package=${line%%: *}; path=${line#*: }
  package_of[$path]=${package%%:*}
done < <(dpkg-query -S "${!names[@]}" 2>/dev/null || true)

packages=()
for library in "${libraries[@]}"; do
  real=$(readlink -f "$library")
  found=""
  for name in "$library" "/usr$library" "${library#/usr}" "$real" "/usr$real" "${real#/usr}"; do
    [[ -n ${package_of[$name]:-} ]] && { found=${package_of[$name]}; break; }
  done
  if [[ -z $found ]]; then
    echo "runtime-packages.sh: $library belongs to no Debian package" >&2
    status=1
  elif $owners; then
    echo "$library $found"
  else
    packages+=("$found")
  fi
done
[[ $status -eq 0 ]] || exit 1
$owners || printf '%s\n' "${packages[@]}" | sort -u
