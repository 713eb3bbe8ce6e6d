"""Evaluations to solve double pole balancing (with velocities): esp's GA, CMA-ES,
sep-CMA-ES and active CMA-ES driven through the real service by `esp run`, against DEAP's CMA-ES (Debian
python3-deap) and the cmaes library's (python3-cmaes) on the same physics and network,
over many seeds with one budget. Three networks: 6-5-1 (examples/double-pole.json: 6
inputs, 5 tanh units, 1 sigmoid force; 41 weights; the default), 6-1 (the same without
the hidden layer, 7 weights) and linear (6-1 without the output's bias: the linear
controller of Igel 2003 and Heidrich-Meisner & Igel 2009, 6 weights). A run is solved
when its best candidate balances 100,000 steps from the standard start.

Usage: /usr/bin/python3 bench/optimisers/run.py [seeds] [budget] [--network 6-5-1|6-1|linear ...]
       [--first-seed K] [--sigma S] [--restarts R] [--tolfun T]
       [--optimisers esp-ga,esp-cma-es,esp-sep-cma-es,esp-active-cma-es,deap-cma-es,cmaes-cma-es]
(defaults 20 seeds, 10,000 evaluations, 6-5-1, sigma 1 for every CMA-ES, esp's CMA-ES
without restarts, all six). --restarts R gives esp's CMA-ES up to R IPOP restarts
(evolution.cma_restarts), --tolfun T the progress a run must make not to stall
(evolution.cma_tolfun). Needs `make build` and the bench's domain_eval
(build/release/bench/domain_eval).
Ends with one line per network and optimiser:
  RESULT domain=double-pole network=<6-5-1|6-1|linear> optimiser=<...> solved=<k>/<n> mean_evaluations=<x> median_evaluations=<y> expected_evaluations=<z>
(means and medians over the solved runs; expected_evaluations is every run's evaluations,
an unsolved one's whole budget, over the runs solved: the expected cost of one solution
when failed runs are started again, BBOB's ERT)."""
import argparse
import json
import math
import os
import statistics
import struct
import subprocess
import sys
import tempfile

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
sys.path.insert(0, os.path.join(ROOT, "tests", "support"))
import cmaes  # noqa: E402
import numpy as np  # noqa: E402
from deap import base, cma, creator  # noqa: E402

from espd import Espd  # noqa: E402
from httpjson import call  # noqa: E402

RELEASE = os.path.join(ROOT, "build", "release")
PARAMS = json.load(open(os.path.join(ROOT, "examples", "double-pole.json")))
SOLVED = 100_000
# name -> (hidden units, output bias, weights): 6 inputs, the hidden tanh layer if any, 1 output.
NETWORKS = {"6-5-1": (5, True, 6 * 5 + 5 + 5 + 1), "6-1": (0, True, 6 + 1), "linear": (0, False, 6)}
OPTIMISERS = {"esp-ga": "ga", "esp-cma-es": "cma_es", "esp-sep-cma-es": "sep_cma_es",
              "esp-active-cma-es": "active_cma_es", "deap-cma-es": None, "cmaes-cma-es": None}


def network_params(network, params=PARAMS):
    """`params` (examples/double-pole.json) with the named network."""
    params = json.loads(json.dumps(params))
    hidden, bias, _ = NETWORKS[network]
    if hidden == 0:
        params["network"]["hidden_layers"] = []
    params["network"]["outputs"][0]["use_bias"] = bias
    return params


def weights_of(network):
    return NETWORKS[network][2]


def cma_params(params, algorithm, seed, sigma, restarts, tolfun=None):
    """`params` for esp's `algorithm` with this seed: CMA-ES's default population size,
    the step size, and the restarts and their tolerance asked for."""
    params = json.loads(json.dumps(params))
    params["evolution"]["seed"] = seed
    if algorithm != "ga":
        params["evolution"]["algorithm"] = algorithm
        del params["evolution"]["population_size"]  # CMA-ES's default, 4 + floor(3 ln n)
        params["evolution"]["cma_sigma"] = sigma
        if restarts:
            params["evolution"]["cma_restarts"] = restarts
        if tolfun is not None:
            params["evolution"]["cma_tolfun"] = tolfun
    return params


def esp_run(server, token, seed, work, algorithm, network, sigma, budget, restarts=0, tolfun=None):
    """esp run with this seed and algorithm; evaluations until the generation that solved it."""
    params = cma_params(network_params(network), algorithm, seed, sigma, restarts, tolfun)
    params["evolution"]["nb_generations"] = budget  # --max-evaluations stops it first
    name = f"{algorithm}-{network}-{seed}"
    path = os.path.join(work, f"{name}.json")
    with open(path, "w") as f:
        json.dump(params, f)
    out = os.path.join(work, name)
    done = subprocess.run([os.path.join(RELEASE, "esp"), "--port", str(server.grpc_port), "--url", server.url(""),
                           "--token", token, "run", path, "--domain", "double-pole", "--experiment-id",
                           name, "--output-dir", out, "--max-evaluations", str(budget)],
                          capture_output=True, text=True, timeout=3600)
    assert done.returncode == 0, done.stderr
    summary = json.load(open(os.path.join(out, "summary.json")))
    return summary["evaluations"] if summary["validation"]["met"] else None


class DomainEval:
    """domain_eval as a subprocess: the same C++ physics as esp run, scoring one metric
    ("validation": the domain's held-out check)."""

    def __init__(self, params_file, domain, metric):
        self.process = subprocess.Popen([os.path.join(RELEASE, "bench", "domain_eval"), params_file, domain,
                                         metric], stdin=subprocess.PIPE, stdout=subprocess.PIPE)

    def __call__(self, genomes):
        block = struct.pack("<I", len(genomes)) + np.asarray(genomes, dtype="<f4").tobytes()
        self.process.stdin.write(block)
        self.process.stdin.flush()
        return struct.unpack(f"<{len(genomes)}d", self.process.stdout.read(8 * len(genomes)))

    def close(self):
        self.process.stdin.close()
        self.process.wait()


def deap_cma_es(evaluate, seed, weights, budget, is_solved=lambda genomes, values: max(values) >= SOLVED,
                sigma=1.0):
    """DEAP's CMA-ES with its defaults (lambda = 4 + 3 ln n) from the origin: evaluations
    until a generation `is_solved`, counted as esp counts them (every candidate of that
    generation), or None within `budget`."""
    np.random.seed(seed)
    strategy = cma.Strategy(centroid=[0.0] * weights, sigma=sigma)
    evaluations = 0
    while evaluations < budget:
        population = strategy.generate(creator.Individual)
        values = evaluate(population)
        evaluations += len(population)
        if is_solved(population, values):
            return evaluations
        for individual, value in zip(population, values):
            individual.fitness.values = (value,)
        strategy.update(population)
    return None


def cmaes_cma_es(evaluate, seed, weights, budget, sigma=1.0):
    """The cmaes library's CMA (Debian python3-cmaes: Hansen's 2016 tutorial with its
    negative weights) from the origin, counted as deap_cma_es counts."""
    strategy = cmaes.CMA(mean=np.zeros(weights), sigma=sigma, seed=seed)
    evaluations = 0
    while evaluations < budget:
        population = [strategy.ask() for _ in range(strategy.population_size)]
        values = evaluate(population)
        evaluations += len(population)
        if max(values) >= SOLVED:
            return evaluations
        strategy.tell([(x, -value) for x, value in zip(population, values)])  # it minimises
    return None


def summary_line(name, results, budget, domain="double-pole", network="6-5-1"):
    solved = [r for r in results if r is not None]
    mean = statistics.mean(solved) if solved else math.nan
    median = statistics.median(solved) if solved else math.nan
    expected = sum(r if r is not None else budget for r in results) / len(solved) if solved else math.nan
    return (f"RESULT domain={domain} network={network} optimiser={name} solved={len(solved)}/{len(results)} "
            f"mean_evaluations={mean:.0f} median_evaluations={median:.0f} expected_evaluations={expected:.0f}")


def parse_arguments(doc, budget, optimisers_known):
    """Both benchmarks' command line: seeds, budget, --first-seed, --sigma, --restarts,
    --tolfun, --network (repeated; default 6-5-1) and --optimisers (checked against
    `optimisers_known`); the arguments and the optimisers asked for."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("seeds", type=int, nargs="?", default=20)
    parser.add_argument("budget", type=int, nargs="?", default=budget)
    parser.add_argument("--first-seed", type=int, default=1, help="seeds first-seed, first-seed + 1, ...")
    parser.add_argument("--sigma", type=float, default=1.0, help="every CMA-ES's initial step size")
    parser.add_argument("--restarts", type=int, default=0, help="esp's CMA-ES restarts (evolution.cma_restarts)")
    parser.add_argument("--tolfun", type=float, help="the progress a run of esp's CMA-ES must make not to stall "
                        "(evolution.cma_tolfun)")
    parser.add_argument("--network", action="append", choices=NETWORKS, help="repeat for several (default 6-5-1)")
    parser.add_argument("--optimisers", default=",".join(optimisers_known))
    args = parser.parse_args()
    args.network = args.network or ["6-5-1"]
    optimisers = args.optimisers.split(",")
    unknown = set(optimisers) - set(optimisers_known)
    if unknown:
        parser.error(f"unknown optimisers: {', '.join(sorted(unknown))}")
    return args, optimisers


def main():
    args, optimisers = parse_arguments(__doc__, 10_000, OPTIMISERS)
    creator.create("FitnessMax", base.Fitness, weights=(1.0,))
    creator.create("Individual", list, fitness=creator.FitnessMax)
    results = {}  # (network, optimiser) -> evaluations per seed, None where unsolved
    with tempfile.TemporaryDirectory(prefix="optimisers-") as work, \
            Espd("--workers", "1", binary=os.path.join(RELEASE, "espd"), defer_start=True, storage_args=[]) as server:
        server.admin("users", "add", "bench@example.com", "--scopes", "esp:read esp:write",
                     password="bench-password\n")
        server.start()
        token = call(server.url("/auth"), "POST",
                     json_body={"email": "bench@example.com", "password": "bench-password"}).json()["token"]
        for network in args.network:
            params_file = os.path.join(work, f"network-{network}.json")
            with open(params_file, "w") as f:
                json.dump(network_params(network), f)
            evaluate = DomainEval(params_file, "double-pole", "steps")
            try:
                for label in optimisers:
                    runs = results[network, label] = []
                    for seed in range(args.first_seed, args.first_seed + args.seeds):
                        if label == "deap-cma-es":
                            runs.append(deap_cma_es(evaluate, seed, weights_of(network), args.budget,
                                                    sigma=args.sigma))
                        elif label == "cmaes-cma-es":
                            runs.append(cmaes_cma_es(evaluate, seed, weights_of(network), args.budget,
                                                     sigma=args.sigma))
                        else:
                            runs.append(esp_run(server, token, seed, work, OPTIMISERS[label], network,
                                                args.sigma, args.budget, args.restarts, args.tolfun))
                        print(f"{network} {label} seed {seed}: {runs[-1] or 'not solved'}", flush=True)
            finally:
                evaluate.close()
    print(f"double pole with velocities, budget {args.budget} evaluations, {args.seeds} seeds, "
          f"CMA-ES sigma {args.sigma}, esp's CMA-ES restarts {args.restarts} (cma_tolfun {args.tolfun})")
    for (network, label), runs in results.items():
        print(summary_line(label, runs, args.budget, network=network))


if __name__ == "__main__":
    main()
