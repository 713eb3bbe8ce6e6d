#!/usr/bin/env bash
# wrk against espd's GET /healthz and against nginx answering `return 200` on
# the same machine, alternating rounds, and prints espd/nginx throughput.
# Both log every request to a file and use the same number of workers.
# Usage: bench/http/run.sh [seconds-per-round] [rounds]
set -euo pipefail
cd "$(dirname "$0")/../.."
source bench/lib.sh "$@"

work=$(mktemp -d)
cleanup() {
  [[ -n ${espd_pid:-} ]] && kill "$espd_pid" 2>/dev/null || true
  stop_nginx "$work"
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

espd_port=$(free_port)
nginx_port=$(free_port)
"$espd" --data-dir "$work/data" --http-addr "127.0.0.1:$espd_port" --grpc-addr 127.0.0.1:0 \
  --io-threads "$threads" >"$work/espd.log" 2>&1 &
espd_pid=$!

start_nginx "$work" "$nginx_port" "$threads"
wait_for_port "$espd_port"
wait_for_port "$nginx_port"

espd_runs=(); nginx_runs=()
for round in $(seq 1 "$rounds"); do
  espd_runs+=("$(rps "http://127.0.0.1:$espd_port/healthz")")
  nginx_runs+=("$(rps "http://127.0.0.1:$nginx_port/")")
  echo "round $round: espd ${espd_runs[-1]} req/s, nginx ${nginx_runs[-1]} req/s"
done

ratios=()
for i in "${!espd_runs[@]}"; do
  ratios+=("$(awk -v e="${espd_runs[$i]}" -v n="${nginx_runs[$i]}" 'BEGIN {printf "%.3f", e / n}')")
done
awk -v e="$(median "${espd_runs[@]}")" -v n="$(median "${nginx_runs[@]}")" \
    -v r="$(median "${ratios[@]}")" -v t="$threads" -v c="$connections" 'BEGIN {
  printf "http: espd GET /healthz %.0f req/s, nginx return 200 %.0f req/s (medians; %d worker threads each, %d connections)\n", e, n, t, c
  printf "http: espd/nginx = %.2f, median of per-round ratios (goal >= 0.80)\n", r
}'
