#!/usr/bin/env bash
# Seed + 10 generations over gRPC at P=1000 W~10,000 (M=1) and P=10,000 W~100 (M=3),
# each against a fresh release espd: time per generation split into transport,
# queueing, engine and persistence, and espd's peak RSS.
# Then the SDK's representations against esp's binary one at P=1000 W~10,000: the same
# generations with NNWeights (JSON) and KerasNN (.h5), the client decoding each candidate.
# Usage: bench/population/run.sh [generations] [representations...]
# ESPD_ENV="NAME=value ..." sets environment variables for espd alone (e.g. glibc
# malloc tunables; see docs/benchmarks.md).
set -euo pipefail
cd "$(dirname "$0")/../.."
source bench/lib.sh
generations=${1:-10}

run_case() {  # population hidden inputs outputs objectives representation
  local work
  work=$(mktemp -d)
  echo "benchmark-password" | $espd --data-dir "$work/data" users add bench@example.com \
    --scopes "esp:read esp:write" >/dev/null 2>&1
  local http grpc
  http=$(free_port); grpc=$(free_port)
  env ${ESPD_ENV:-} $espd --data-dir "$work/data" --http-addr "127.0.0.1:$http" --grpc-addr "127.0.0.1:$grpc" \
    --grpc-max-message 1GiB --workers 1 >"$work/espd.log" 2>&1 &
  local pid=$!
  # Stop this espd however the case ends (a failing client must not leave it running).
  trap "kill $pid 2>/dev/null; rm -rf '$work'" EXIT
  wait_for_port "$grpc"
  local token
  token=$(curl -s -X POST "http://127.0.0.1:$http/auth" -H 'Content-Type: application/json' \
    -d '{"email":"bench@example.com","password":"benchmark-password"}' |
    /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
  /usr/bin/python3 bench/population/population_bench.py "$grpc" "$token" "$pid" "$work/espd.log" \
    "${@:1:5}" "$generations" "$6"
  kill "$pid"; wait "$pid" || true
  rm -rf "$work"
  trap - EXIT
}

shift || true
representations=("$@")
[[ ${#representations[@]} -gt 0 ]] || representations=(NNWeightsBinary NNWeights KerasNN)

echo "espd $(git rev-parse --short HEAD), $(nproc) cores, one worker using every core"
run_case 1000 96 100 4 1 NNWeightsBinary
run_case 10000 8 8 3 3 NNWeightsBinary
for representation in "${representations[@]}"; do
  [[ $representation == NNWeightsBinary ]] && continue  # measured above
  run_case 1000 96 100 4 1 "$representation"
done
