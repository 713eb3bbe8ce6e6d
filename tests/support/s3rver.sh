#!/usr/bin/env bash
# Installs (npm ci from tests/s3's lock) and starts or stops s3rver, an S3-protocol
# server, on a free loopback port in FOLDER with the bucket esp-test, behind
# tests/s3/sigv4_gate.py, which checks the V4 signatures s3rver does not. Writes
# FOLDER/endpoint (the gate) for the tests and FOLDER/direct-endpoint (s3rver alone).
# The access key is S3RVER with the secret S3RVER.
# Usage: s3rver.sh start FOLDER | s3rver.sh stop FOLDER
set -euo pipefail
action=$1 folder=$2
here=$(cd "$(dirname "$0")/../s3" && pwd)
case "$action" in
  start)
    "$0" stop "$folder" 2>/dev/null || true
    mkdir -p "$folder/install" "$folder/data"
    if ! cmp -s "$here/package-lock.json" "$folder/install/package-lock.json"; then
      cp "$here/package.json" "$here/package-lock.json" "$folder/install/"
      (cd "$folder/install" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null)
    fi
    free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
    port=$(free_port) gate_port=$(free_port)
    rm -rf "$folder/data"/*
    ulimit -n "$(ulimit -Hn)" 2>/dev/null || true  # s3rver opens every listed object at once
    # s3rver 3 makes continuation tokens with a cipher OpenSSL 3 keeps in its legacy provider.
    NODE_OPTIONS=--openssl-legacy-provider nohup node "$folder/install/node_modules/s3rver/bin/s3rver.js" --directory "$folder/data" \
      --address 127.0.0.1 --port "$port" --configure-bucket esp-test --silent \
      >"$folder/server.log" 2>&1 &
    echo $! >"$folder/pid"
    nohup /usr/bin/python3 "$here/sigv4_gate.py" "$gate_port" "$port" S3RVER:S3RVER >"$folder/gate.log" 2>&1 &
    echo $! >>"$folder/pid"
    for listener in "$port" "$gate_port"; do
      for _ in $(seq 1 600); do
        (echo >/dev/tcp/127.0.0.1/"$listener") 2>/dev/null && continue 2
        sleep 0.05
      done
      echo "s3rver did not start: $(cat "$folder/server.log" "$folder/gate.log")" >&2; exit 1
    done
    echo "http://127.0.0.1:$gate_port" >"$folder/endpoint"
    echo "http://127.0.0.1:$port" >"$folder/direct-endpoint"
    ;;
  stop)
    [[ -f $folder/pid ]] || exit 0
    kill $(cat "$folder/pid") 2>/dev/null || true
    rm -f "$folder/pid"
    ;;
  *) echo "usage: $0 start|stop FOLDER" >&2; exit 2 ;;
esac
