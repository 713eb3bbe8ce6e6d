"""Evaluations to solve double pole balancing without velocities (Gruau's fitness, the
625-start generalisation test): esp's GA, CMA-ES and active CMA-ES through the real
service (driven with esp_client over REST) against DEAP's CMA-ES, every candidate scored
by domain_eval on the same C++ physics (examples/double-pole-nv.json: position and both
angles now and one step before). Networks as run.py's: 6-5-1 (5 tanh units, 1 output;
the default), 6-1 and linear (no hidden layer, without the output's bias). After each
generation the best candidate is checked; a run is solved when it balances 100,000
steps from the standard start and 200 of the 625 generalisation starts for 1,000 steps.

Usage: /usr/bin/python3 bench/optimisers/run_nv.py [seeds] [budget] [--network 6-5-1|6-1|linear ...]
       [--first-seed K] [--sigma S] [--restarts R] [--tolfun T]
       [--optimisers esp-ga,esp-cma-es,esp-active-cma-es,deap-cma-es]
(default 20, 20,000, 6-5-1, 1, no restarts, all four)
Ends with lines
  RESULT domain=double-pole-nv network=<...> optimiser=<esp-ga|esp-cma-es|esp-active-cma-es|deap-cma-es> solved=<k>/<n> mean_evaluations=<x> median_evaluations=<y> expected_evaluations=<z>"""
import json
import os
import sys
import tempfile

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
sys.path[:0] = [os.path.join(ROOT, "tests", "support"), os.path.join(ROOT, "python"),
                os.path.dirname(os.path.abspath(__file__))]
import numpy as np  # noqa: E402
from deap import base, creator  # noqa: E402

import esp_client  # noqa: E402
from espd import Espd  # noqa: E402
from run import (RELEASE, DomainEval, cma_params, deap_cma_es, network_params, parse_arguments,  # noqa: E402
                 summary_line, weights_of)

PARAMS = json.load(open(os.path.join(ROOT, "examples", "double-pole-nv.json")))
PASSES = 200
OPTIMISERS = {"esp-ga": "ga", "esp-cma-es": "cma_es", "esp-active-cma-es": "active_cma_es", "deap-cma-es": None}


def solved(check, genomes, values):
    """Whether the generation's best passes the whole test."""
    return check([genomes[int(np.argmax(values))]])[0] >= PASSES


def esp_run(client, fitness, check, algorithm, network, seed, sigma, budget, restarts, tolfun):
    params = cma_params(network_params(network, PARAMS), algorithm, seed, sigma, restarts, tolfun)
    params["LEAF"]["representation"] = "NNWeightsBinary"
    exp = client.experiment(f"{algorithm}-{network}-{seed}", params)
    evaluations = 0
    while evaluations < budget:
        population = exp.ask()
        genomes = [c.genome for c in population]
        values = fitness(genomes)
        evaluations += len(genomes)
        if solved(check, genomes, values):
            return evaluations
        exp.tell({c.id: {"fitness": v} for c, v in zip(population, values)})
    return None


def main():
    args, optimisers = parse_arguments(__doc__, 20_000, OPTIMISERS)
    creator.create("FitnessMax", base.Fitness, weights=(1.0,))
    creator.create("Individual", list, fitness=creator.FitnessMax)
    results = {}
    with tempfile.TemporaryDirectory(prefix="optimisers-nv-") as work, \
            Espd("--workers", "1", binary=os.path.join(RELEASE, "espd"), defer_start=True,
                 storage_args=[]) as server:
        server.admin("users", "add", "bench@example.com", "--scopes", "esp:read esp:write",
                     password="bench-password\n")
        server.start()
        client = esp_client.Client(server.url(""), email="bench@example.com", password="bench-password")
        for network in args.network:
            params_file = os.path.join(work, f"network-{network}.json")
            with open(params_file, "w") as f:
                json.dump(network_params(network, PARAMS), f)
            fitness, check = (DomainEval(params_file, "double-pole-nv", metric) for metric in ("fitness", "validation"))
            try:
                for label in optimisers:
                    runs = results[network, label] = []
                    for seed in range(args.first_seed, args.first_seed + args.seeds):
                        if OPTIMISERS[label] is None:
                            runs.append(deap_cma_es(fitness, seed, weights_of(network), args.budget,
                                                    lambda genomes, values: solved(check, genomes, values),
                                                    sigma=args.sigma))
                        else:
                            runs.append(esp_run(client, fitness, check, OPTIMISERS[label], network, seed,
                                                args.sigma, args.budget, args.restarts, args.tolfun))
                        print(f"{network} {label} seed {seed}: {runs[-1] or 'not solved'}", flush=True)
            finally:
                fitness.close()
                check.close()
    print(f"double pole without velocities, budget {args.budget} evaluations, {args.seeds} seeds, "
          f"CMA-ES sigma {args.sigma}, esp's CMA-ES restarts {args.restarts} (cma_tolfun {args.tolfun})")
    for (network, label), runs in results.items():
        print(summary_line(label, runs, args.budget, domain="double-pole-nv", network=network))


if __name__ == "__main__":
    main()
