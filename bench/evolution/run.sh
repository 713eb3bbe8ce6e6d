#!/usr/bin/env bash
# The evolution engine against its peers, measured in the same run: one generation
# step against DEAP (bench/peers/deap_step.py) and the non-dominated sort against
# pagmo2 (bench/peers/pagmo_sort.cpp), plus the memory-copy floor.
# Usage: bench/evolution/run.sh   (after `make build` with the bench packages installed)
set -euo pipefail
cd "$(dirname "$0")/../.."
bin=build/release/bench
for tool in evolution_bench pagmo_sort; do
  [[ -x $bin/$tool ]] || { echo "missing $bin/$tool: run make bench" >&2; exit 1; }
done
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Repetitions of every benchmark are interleaved in random order, so a slow spell on a
# noisy machine lands on the step and on the copy floor alike.
"$bin/evolution_bench" --benchmark_format=json --benchmark_repetitions=5 \
  --benchmark_enable_random_interleaving=true --benchmark_report_aggregates_only=true \
  >"$work/esp.json"
{
  echo "{"
  echo "\"pagmo 10000 2\": $("$bin/pagmo_sort" 10000 2 2),"
  echo "\"pagmo 10000 3\": $("$bin/pagmo_sort" 10000 3 2),"
  echo "\"deap 1000 10001 2\": $(/usr/bin/python3 bench/peers/deap_step.py 1000 10001 2 1),"
  echo "\"deap 10000 101 3\": $(/usr/bin/python3 bench/peers/deap_step.py 10000 101 3 1)"
  echo "}"
} >"$work/peers.json"
/usr/bin/python3 bench/evolution/report.py "$work/esp.json" "$work/peers.json"
