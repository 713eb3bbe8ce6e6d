#!/usr/bin/env bash
# Issue 19's goals in one go: double pole balancing with velocities (run.py) and without
# (run_nv.py) on the linear controller, esp's GA, CMA-ES and active CMA-ES (IPOP
# restarts) through the real service against DEAP's CMA-ES, over SEEDS seeds (default
# 20). Needs `make build` (release espd, esp and bench/domain_eval). Ends with the two
# scripts' RESULT lines; docs/benchmarks.md has the figures.
#   bench/optimisers/run.sh [SEEDS]
set -euo pipefail
cd "$(dirname "$0")"
seeds=${1:-20}
optimisers=esp-ga,esp-cma-es,esp-active-cma-es,deap-cma-es
/usr/bin/python3 run.py "$seeds" 10000 --network linear --sigma 10 --restarts 9 \
  --optimisers "$optimisers"
/usr/bin/python3 run_nv.py "$seeds" 20000 --network linear --sigma 10 --restarts 9 --tolfun 1e-3 \
  --optimisers "$optimisers"
