#!/usr/bin/env bash
# Seed + N generations over gRPC against a fresh release espd per case: P=1000 W~10,000
# (M=1), P=10,000 W~100 (M=3) and P=100,000 W~1,100 (M=2, 3 generations), in esp's binary
# layout and in the SDK's JSON (and .h5 for the first case): time per generation split
# into transport, queueing, engine and persistence, espd's peak RSS, and one line
#   RESULT case=<P>x<W>x<M> encoding=<binary|json|h5> mean_ms=<x> peak_rss_mib=<y> ...
# Python cases also time the REST download of the last checkpoint (JSON and protobuf;
# rest_json_ms, rest_protobuf_ms: the best of three). The first case runs from the C++
# client too (bench/population/client_bench.cpp; its RESULT lines say client=cpp).
# Usage: bench/population/run.sh [generations] [representations...]
#   representations: NNWeightsBinary NNWeights KerasNN (default: all three)
# ESPD_ENV="NAME=value ..." sets environment variables for espd alone (e.g. glibc
# malloc tunables; see docs/benchmarks.md). STORE=s3 keeps the checkpoints in s3rver on
# loopback (the tests' own, started here), as replicas on Kubernetes keep them in S3.
# CASES="1000 100000" runs only the cases of those populations (1000, 10000, 100000;
# default all); CLIENTS="python cpp" runs each case from both clients (default: the C++
# client for the first case only). ESPD=path runs another espd binary.
set -euo pipefail
cd "$(dirname "$0")/../.."
source bench/lib.sh
generations=${1:-10}

# The checkpoints' store: files under espd's data folder, or s3rver (STORE=s3).
store_args=() store_tag="" s3_dir=""
stop_store() { [[ -z $s3_dir ]] || { tests/support/s3rver.sh stop "$s3_dir"; rm -rf "$s3_dir"; }; }
if [[ ${STORE:-files} == s3 ]]; then
  scripts/install-deps.sh test >/dev/null  # node, for s3rver
  s3_dir=$(mktemp -d)
  trap stop_store EXIT
  tests/support/s3rver.sh start "$s3_dir"
  # s3rver directly, without the signature-checking gate the tests put in front of it.
  store_args=(--models-bucket esp-test --s3-endpoint "$(cat "$s3_dir/direct-endpoint")")
  export AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER
  store_tag=" store=s3"
fi

run_case() {  # population hidden inputs outputs objectives representation
  local work
  work=$(mktemp -d)
  echo "benchmark-password" | $espd --data-dir "$work/data" users add bench@example.com \
    --scopes "esp:read esp:write" >/dev/null 2>&1
  local http grpc
  http=$(free_port); grpc=$(free_port)
  env ${ESPD_ENV:-} $espd --data-dir "$work/data" --http-addr "127.0.0.1:$http" --grpc-addr "127.0.0.1:$grpc" \
    --grpc-max-message 2047MiB --workers 1 "${store_args[@]}" >"$work/espd.log" 2>&1 &
  local pid=$!
  # Stop this espd however the case ends (a failing client must not leave it running).
  trap "kill $pid 2>/dev/null; rm -rf '$work'; stop_store" EXIT
  wait_for_port "$grpc"
  local token
  token=$(curl -s -X POST "http://127.0.0.1:$http/auth" -H 'Content-Type: application/json' \
    -d '{"email":"bench@example.com","password":"benchmark-password"}' |
    /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
  if [[ ${CLIENT:-python} == cpp ]]; then
    local result
    result=$("$(dirname "$espd")/bench/client_bench" "$grpc" "$token" "${@:1:5}" "$generations" "$6" |
      grep '^RESULT')
    # espd's peak, as the Python client reads it.
    echo "$result peak_rss_mib=$(awk '/^VmHWM/ {printf "%.0f", $2 / 1024}' "/proc/$pid/status")$store_tag"
  else
    ESP_BENCH_HTTP="http://127.0.0.1:$http" /usr/bin/python3 bench/population/population_bench.py \
      "$grpc" "$token" "$pid" "$work/espd.log" "${@:1:5}" "$generations" "$6" |
      sed "s/^RESULT .*/&$store_tag/"
  fi
  kill "$pid"; wait "$pid" || true
  rm -rf "$work"
  trap stop_store EXIT
}

shift || true
representations=("$@")
[[ ${#representations[@]} -gt 0 ]] || representations=(NNWeightsBinary NNWeights KerasNN)

echo "espd $(git rev-parse --short HEAD), $(nproc) cores, one worker using every core"
cases=" ${CASES:-1000 10000 100000} "
# The C++ client runs the first case by default: what of the time is the Python client's own.
clients=" ${CLIENTS:-python} "
run_if_chosen() {  # population hidden inputs outputs objectives representation
  [[ $cases == *" $1 "* ]] || return 0
  if [[ $clients == *" python "* ]]; then run_case "$@"; fi
  if [[ $clients == *" cpp "* ]]; then CLIENT=cpp run_case "$@"; fi
}

for representation in "${representations[@]}"; do
  clients=" ${CLIENTS:-python cpp} " run_if_chosen 1000 96 100 4 1 "$representation"
done
for representation in "${representations[@]}"; do
  [[ $representation == KerasNN ]] && continue  # 23 KB of file per candidate: 2.3 GB
  run_if_chosen 10000 8 8 3 3 "$representation"
  generations_saved=$generations; generations=3
  run_if_chosen 100000 10 107 2 2 "$representation"
  generations=$generations_saved
done
