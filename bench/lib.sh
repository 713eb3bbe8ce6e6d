# Shared settings and helpers for the throughput benchmarks; sourced from the
# repository root as `source bench/lib.sh "$@"` with the script's arguments:
# [seconds-per-round] [rounds]. ESP_BENCH_THREADS (server threads) and
# ESP_BENCH_CONNECTIONS override.
seconds=${1:-10}
rounds=${2:-3}
# Server threads: the cores wrk (one thread) leaves free. Giving the servers every core
# makes them and wrk share, and then both espd and nginx measure the scheduler more than
# themselves (on 2 cores: nginx 76k req/s with 1 worker, 61k with 2).
threads=${ESP_BENCH_THREADS:-$(($(nproc) > 1 ? $(nproc) - 1 : 1))}
connections=${ESP_BENCH_CONNECTIONS:-64}
# ESPD names another espd binary (say, a build of an earlier commit for a before/after).
espd=${ESPD:-build/release/espd}
[[ -x $espd ]] || { echo "build espd first: make build" >&2; exit 1; }

free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

wait_for_port() {
  for _ in $(seq 1 1000); do
    (echo >/dev/tcp/127.0.0.1/"$1") 2>/dev/null && return 0
    sleep 0.01
  done
  echo "nothing listens on port $1" >&2; exit 1
}

median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

# start_nginx WORK_DIR PORT WORKERS: nginx-light answering `return 200` and logging
# every request, as the peer for espd's throughput.
start_nginx() {
  local work=$1 port=$2 workers=$3
  cat >"$work/nginx.conf" <<NGINX
worker_processes $workers;
pid $work/nginx.pid;
error_log $work/nginx-error.log;
events { worker_connections 1024; }
http {
  access_log $work/nginx-access.log;
  client_body_temp_path $work; proxy_temp_path $work; fastcgi_temp_path $work;
  uwsgi_temp_path $work; scgi_temp_path $work;
  server {
    listen 127.0.0.1:$port;
    location / { return 200 "ok"; }
  }
}
NGINX
  nginx -c "$work/nginx.conf" -p "$work" -e "$work/nginx-error.log"
}

stop_nginx() { [[ -f $1/nginx.pid ]] && kill "$(cat "$1/nginx.pid")" 2>/dev/null || true; }

# rps URL [wrk args...]: requests per second from one wrk run of $seconds.
rps() {
  local url=$1; shift
  wrk -t1 -c"$connections" -d"${seconds}s" "$@" "$url" | awk '/Requests\/sec/ {print $2}'
}
