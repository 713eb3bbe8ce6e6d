#!/usr/bin/env bash
# wrk against espd's GET /healthz and against nginx answering `return 200` on
# the same machine, alternating rounds, and prints espd/nginx throughput.
# Both log every request to a file and use the same number of workers.
# Usage: bench/http/run.sh [seconds-per-round] [rounds]
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds=${1:-10}
rounds=${2:-3}
threads=${ESP_BENCH_THREADS:-$(nproc)}
connections=${ESP_BENCH_CONNECTIONS:-64}
espd=build/release/espd
[[ -x $espd ]] || { echo "build espd first: make build" >&2; exit 1; }

work=$(mktemp -d)
cleanup() {
  [[ -n ${espd_pid:-} ]] && kill "$espd_pid" 2>/dev/null || true
  [[ -f $work/nginx.pid ]] && kill "$(cat "$work/nginx.pid")" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_for_port() {
  for _ in $(seq 1 500); do
    (echo >/dev/tcp/127.0.0.1/"$1") 2>/dev/null && return 0
    sleep 0.01
  done
  echo "nothing listens on port $1" >&2; exit 1
}

espd_port=$(free_port)
nginx_port=$(free_port)
"$espd" --data-dir "$work/data" --http-addr "127.0.0.1:$espd_port" --grpc-addr 127.0.0.1:0 \
  --io-threads "$threads" >"$work/espd.log" 2>&1 &
espd_pid=$!

cat >"$work/nginx.conf" <<NGINX
worker_processes $threads;
pid $work/nginx.pid;
error_log $work/nginx-error.log;
events { worker_connections 1024; }
http {
  access_log $work/nginx-access.log;
  client_body_temp_path $work; proxy_temp_path $work; fastcgi_temp_path $work;
  uwsgi_temp_path $work; scgi_temp_path $work;
  server {
    listen 127.0.0.1:$nginx_port;
    location / { return 200 "ok"; }
  }
}
NGINX
nginx -c "$work/nginx.conf" -p "$work" -e "$work/nginx-error.log"
wait_for_port "$espd_port"
wait_for_port "$nginx_port"

rps() { wrk -t1 -c"$connections" -d"${seconds}s" "$1" | awk '/Requests\/sec/ {print $2}'; }
espd_runs=(); nginx_runs=()
for round in $(seq 1 "$rounds"); do
  espd_runs+=("$(rps "http://127.0.0.1:$espd_port/healthz")")
  nginx_runs+=("$(rps "http://127.0.0.1:$nginx_port/")")
  echo "round $round: espd ${espd_runs[-1]} req/s, nginx ${nginx_runs[-1]} req/s"
done

median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
ratios=()
for i in "${!espd_runs[@]}"; do
  ratios+=("$(awk -v e="${espd_runs[$i]}" -v n="${nginx_runs[$i]}" 'BEGIN {printf "%.3f", e / n}')")
done
awk -v e="$(median "${espd_runs[@]}")" -v n="$(median "${nginx_runs[@]}")" \
    -v r="$(median "${ratios[@]}")" -v t="$threads" -v c="$connections" 'BEGIN {
  printf "http: espd GET /healthz %.0f req/s, nginx return 200 %.0f req/s (medians; %d worker threads each, %d connections)\n", e, n, t, c
  printf "http: espd/nginx = %.2f, median of per-round ratios (goal >= 0.80)\n", r
}'
