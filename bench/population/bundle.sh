#!/usr/bin/env bash
# Packs the C++ population benchmark to run on another host of the same processor family,
# one without this build's packages (a larger machine, a production node): release espd,
# client_bench, every shared library they load (the loader too), and a script running
# the cases of run.sh from the C++ client.
# Usage: bench/population/bundle.sh DIR   (after `make build`), then on that host:
#   DIR/run.sh [generations] [representations...]   (default: 4 NNWeightsBinary NNWeights)
# CASES="1000 100000" as in run.sh; ESPD_ARGS="..." adds espd options. The host needs bash,
# curl and python3 (to read the token); nothing is installed there.
set -euo pipefail
cd "$(dirname "$0")/../.."
dir=${1:?usage: bench/population/bundle.sh DIR}
binaries=(build/release/espd build/release/bench/client_bench)
for binary in "${binaries[@]}"; do
  [[ -x $binary ]] || { echo "build $binary first: make build" >&2; exit 1; }
done
mkdir -p "$dir/bin" "$dir/lib"
cp "${binaries[@]}" "$dir/bin/"
# Every library either loads, by the path ldd resolves, and the loader itself.
ldd "${binaries[@]}" | awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\/lib.*ld-linux/ {print $1}' |
  sort -u | xargs -I{} cp -L {} "$dir/lib/"
loaders=("$dir"/lib/ld-linux-*.so.*)
cp "${loaders[0]}" "$dir/lib/loader"

cat >"$dir/run.sh" <<'RUN'
#!/usr/bin/env bash
# Written by bench/population/bundle.sh: run.sh's cases from the C++ client, each against a
# fresh espd with one worker using every core. One RESULT line per case, as run.sh's.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
generations=${1:-4}
shift || true
representations=("$@")
[[ ${#representations[@]} -gt 0 ]] || representations=(NNWeightsBinary NNWeights)
cases=" ${CASES:-1000 100000} "
# The bundle's own libraries, whatever the host has.
run() { "$here/lib/loader" --library-path "$here/lib" "$@"; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

echo "$(run "$here/bin/espd" --version 2>/dev/null | head -1), $(nproc) cores"
run_case() {  # population hidden inputs outputs objectives representation
  local work http grpc pid token result
  work=$(mktemp -d)
  echo "benchmark-password" | run "$here/bin/espd" --data-dir "$work/data" users add \
    bench@example.com --scopes "esp:read esp:write" >/dev/null 2>&1
  http=$(free_port); grpc=$(free_port)
  # exec: $! is espd itself, whose peak is read below.
  (exec "$here/lib/loader" --library-path "$here/lib" "$here/bin/espd" --data-dir "$work/data" \
    --http-addr "127.0.0.1:$http" --grpc-addr "127.0.0.1:$grpc" --grpc-max-message 2047MiB \
    --workers 1 ${ESPD_ARGS:-} >"$work/espd.log" 2>&1) &
  pid=$!
  trap "kill $pid 2>/dev/null; rm -rf '$work'" EXIT
  for _ in $(seq 1 1000); do
    (echo >/dev/tcp/127.0.0.1/"$grpc") 2>/dev/null && break
    sleep 0.01
  done
  token=$(curl -s -X POST "http://127.0.0.1:$http/auth" -H 'Content-Type: application/json' \
    -d '{"email":"bench@example.com","password":"benchmark-password"}' |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
  result=$(run "$here/bin/client_bench" "$grpc" "$token" "${@:1:5}" "$case_generations" "$6" |
    grep '^RESULT')
  echo "$result peak_rss_mib=$(awk '/^VmHWM/ {printf "%.0f", $2 / 1024}' "/proc/$pid/status")"
  kill "$pid"; wait "$pid" || true
  rm -rf "$work"
  trap - EXIT
}
for representation in "${representations[@]}"; do
  case_generations=$generations
  [[ $cases != *" 1000 "* ]] || run_case 1000 96 100 4 1 "$representation"
  [[ $cases != *" 10000 "* ]] || run_case 10000 8 8 3 3 "$representation"
  [[ $cases != *" 100000 "* ]] || run_case 100000 10 107 2 2 "$representation"
done
RUN
chmod +x "$dir/run.sh"
echo "$(du -sh "$dir" | cut -f1) in $dir; on the other host: $dir/run.sh"
