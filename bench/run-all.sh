#!/usr/bin/env bash
# Runs every benchmark; each prints its ratios against a peer measured in the same run.
set -euo pipefail
cd "$(dirname "$0")"
./http/run.sh "$@"
./auth/run.sh "$@"
/usr/bin/python3 auth/login_flood.py
./evolution/run.sh
./population/run.sh
./scale/run.sh
./optimisers/run.sh
