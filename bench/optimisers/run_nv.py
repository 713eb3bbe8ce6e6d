"""Evaluations to solve double pole balancing without velocities (Gruau's fitness, the
625-start generalisation test): esp's GA and CMA-ES through the real service (driven
with esp_client over REST) against DEAP's CMA-ES, every candidate scored by
domain_eval on the same C++ physics (examples/double-pole-nv.json: position and both
angles now and one step before, 5 tanh units, 1 output). After each generation the
best candidate is checked; a run is solved when it balances 100,000 steps from the
standard start and 200 of the 625 generalisation starts for 1,000 steps.

Usage: /usr/bin/python3 bench/optimisers/run_nv.py [seeds] [budget] [--first-seed K] [--sigma S]
       [--optimisers esp-ga,esp-cma-es,deap-cma-es]   (default 20, 20,000, 1, all three)
Ends with lines
  RESULT domain=double-pole-nv network=6-5-1 optimiser=<esp-ga|esp-cma-es|deap-cma-es> solved=<k>/<n> mean_evaluations=<x> median_evaluations=<y>"""
import json
import os
import sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
sys.path[:0] = [os.path.join(ROOT, "tests", "support"), os.path.join(ROOT, "python"),
                os.path.dirname(os.path.abspath(__file__))]
import numpy as np  # noqa: E402
from deap import base, creator  # noqa: E402

import esp_client  # noqa: E402
from espd import Espd  # noqa: E402
from run import RELEASE, DomainEval, deap_cma_es, parse_arguments, summary_line  # noqa: E402

PARAMS_FILE = os.path.join(ROOT, "examples", "double-pole-nv.json")
PARAMS = json.load(open(PARAMS_FILE))
WEIGHTS = 6 * 5 + 5 + 5 + 1
PASSES = 200
OPTIMISERS = {"esp-ga": "ga", "esp-cma-es": "cma_es", "deap-cma-es": None}


def solved(check, genomes, values):
    """Whether the generation's best passes the whole test."""
    return check([genomes[int(np.argmax(values))]])[0] >= PASSES


def esp_run(client, fitness, check, algorithm, seed, sigma, budget):
    params = json.loads(json.dumps(PARAMS))
    params["evolution"]["seed"] = seed
    params["LEAF"]["representation"] = "NNWeightsBinary"
    if algorithm != "ga":
        params["evolution"]["algorithm"] = algorithm
        del params["evolution"]["population_size"]
        params["evolution"]["cma_sigma"] = sigma
    exp = client.experiment(f"{algorithm}-{seed}", params)
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
    fitness, check = (DomainEval(PARAMS_FILE, "double-pole-nv", metric) for metric in ("fitness", "validation"))
    results = {}
    try:
        with Espd("--workers", "1", binary=os.path.join(RELEASE, "espd"), defer_start=True,
                  storage_args=[]) as server:
            server.admin("users", "add", "bench@example.com", "--scopes", "esp:read esp:write",
                         password="bench-password\n")
            server.start()
            client = esp_client.Client(server.url(""), email="bench@example.com", password="bench-password")
            for label in optimisers:
                runs = results[label] = []
                for seed in range(args.first_seed, args.first_seed + args.seeds):
                    if OPTIMISERS[label] is None:
                        runs.append(deap_cma_es(fitness, seed, WEIGHTS, args.budget,
                                                lambda genomes, values: solved(check, genomes, values),
                                                sigma=args.sigma))
                    else:
                        runs.append(esp_run(client, fitness, check, OPTIMISERS[label], seed, args.sigma,
                                            args.budget))
                    print(f"{label} seed {seed}: {runs[-1] or 'not solved'}", flush=True)
    finally:
        fitness.close()
        check.close()
    print(f"double pole without velocities, network 6-5-1 ({WEIGHTS} weights), budget {args.budget} "
          f"evaluations, {args.seeds} seeds, CMA-ES sigma {args.sigma}")
    for label, runs in results.items():
        print(summary_line(label, runs, domain="double-pole-nv"))


if __name__ == "__main__":
    main()
