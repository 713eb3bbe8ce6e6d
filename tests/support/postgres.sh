#!/usr/bin/env bash
# Starts or stops a throw-away PostgreSQL (Debian's postgresql package) on a free
# loopback port in FOLDER, for the storage tests. Writes FOLDER/url for them.
# Usage: postgres.sh start|restart|stop FOLDER
set -euo pipefail
action=$1 folder=$(realpath -m "$2")  # the socket folder must be absolute
bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
# PostgreSQL refuses to run as root; the package's postgres user runs it then.
as_owner=()
[[ $(id -u) -eq 0 ]] && as_owner=(runuser -u postgres --)

case "$action" in
  start)
    "$0" stop "$folder" 2>/dev/null || true
    rm -rf "$folder"
    mkdir -p "$folder"
    [[ ${#as_owner[@]} -gt 0 ]] && chown postgres "$folder"
    port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    "${as_owner[@]}" "$bin/initdb" -D "$folder/data" -U esp -A trust --no-sync >"$folder/initdb.log"
    "${as_owner[@]}" "$bin/pg_ctl" -D "$folder/data" -l "$folder/server.log" -w \
      -o "-p $port -k $folder -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200" start >/dev/null
    echo "postgresql://esp@127.0.0.1:$port/postgres" >"$folder/url"
    ;;
  restart)  # as after a crash (immediate shutdown), on the same port; also starts a stopped one
    "${as_owner[@]}" "$bin/pg_ctl" -D "$folder/data" -l "$folder/server.log" -m immediate -w restart >/dev/null
    ;;
  stop)
    [[ -f $folder/data/postmaster.pid ]] || exit 0  # not running: nothing to stop
    "${as_owner[@]}" "$bin/pg_ctl" -D "$folder/data" -m immediate -w stop >/dev/null
    ;;
  *) echo "usage: $0 start|restart|stop FOLDER" >&2; exit 2 ;;
esac
