#!/usr/bin/env bash
# Generation throughput with 1, 2 and 3 replicas on PostgreSQL + S3 against one
# replica on SQLite, all behind nginx on loopback. Starts a throw-away PostgreSQL and
# s3rver (the test scripts' own) and stops them after.
# Usage: bench/scale/run.sh [experiments] [generations] [rounds]
set -euo pipefail
cd "$(dirname "$0")/../.."
[[ -x build/release/espd ]] || { echo "build espd first: make build" >&2; exit 1; }
scripts/install-deps.sh test >/dev/null  # PostgreSQL, nginx, node for s3rver
work=$(mktemp -d)
chmod 755 "$work"  # PostgreSQL runs as the postgres user when this runs as root
trap 'tests/support/postgres.sh stop "$work/pg"; tests/support/s3rver.sh stop "$work/s3"; rm -rf "$work"' EXIT
tests/support/postgres.sh start "$work/pg"
tests/support/s3rver.sh start "$work/s3"
echo "espd $(git rev-parse --short HEAD)"
# s3rver directly, without the signature-checking gate the tests put in front of it.
ESPD_BINARY=build/release/espd \
  ESP_TEST_POSTGRES_URL_FILE="$work/pg/url" ESP_TEST_S3_ENDPOINT_FILE="$work/s3/direct-endpoint" \
  /usr/bin/python3 bench/scale/scale_bench.py "${1:-16}" "${2:-6}" "${3:-3}"
