"""Evaluations to solve double pole balancing (with velocities): esp's GA, CMA-ES and
sep-CMA-ES driven through the real service by `esp run`, against DEAP's CMA-ES (Debian python3-deap) on the same
physics and network (6 inputs, 5 tanh units, 1 sigmoid force; examples/double-pole.json),
over many seeds with one budget. A run is solved when its best candidate balances
100,000 steps from the standard start.

Usage: /usr/bin/python3 bench/optimisers/run.py [seeds] [budget]   (default 20, 10,000)
Needs `make build` and the bench's domain_eval (build/release/bench/domain_eval).
Ends with one line per optimiser:
  RESULT domain=double-pole optimiser=<esp-ga|esp-cma-es|esp-sep-cma-es|deap-cma-es> solved=<k>/<n> mean_evaluations=<x> median_evaluations=<y>
(means and medians over the solved runs)."""
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
import numpy as np  # noqa: E402
from deap import base, cma, creator  # noqa: E402

from espd import Espd  # noqa: E402
from httpjson import call  # noqa: E402

RELEASE = os.path.join(ROOT, "build", "release")
PARAMS = json.load(open(os.path.join(ROOT, "examples", "double-pole.json")))
SOLVED = 100_000
WEIGHTS = 6 * 5 + 5 + 5 + 1  # examples/double-pole.json: 6 inputs, 5 tanh units, 1 output
seeds = int(sys.argv[1]) if len(sys.argv) > 1 else 20
budget = int(sys.argv[2]) if len(sys.argv) > 2 else 10_000


def esp_run(server, token, seed, work, algorithm):
    """esp run with this seed and algorithm; evaluations until the generation that solved it."""
    params = json.loads(json.dumps(PARAMS))
    params["evolution"]["seed"] = seed
    if algorithm != "ga":
        params["evolution"]["algorithm"] = algorithm
        del params["evolution"]["population_size"]  # CMA-ES's default, 4 + floor(3 ln n)
        params["evolution"]["cma_sigma"] = 1.0
    population = params["evolution"].get("population_size", 4 + int(3 * math.log(WEIGHTS)))
    params["evolution"]["nb_generations"] = budget // population
    name = f"{algorithm}-{seed}"
    path = os.path.join(work, f"{name}.json")
    with open(path, "w") as f:
        json.dump(params, f)
    out = os.path.join(work, name)
    done = subprocess.run([os.path.join(RELEASE, "esp"), "--port", str(server.grpc_port), "--url", server.url(""),
                           "--token", token, "run", path, "--domain", "double-pole", "--experiment-id",
                           name, "--output-dir", out], capture_output=True, text=True, timeout=3600)
    assert done.returncode == 0, done.stderr
    summary = json.load(open(os.path.join(out, "summary.json")))
    return summary["generation"] * population if summary["validation"]["met"] else None


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


def deap_cma_es(evaluate, seed, weights, budget, is_solved=lambda genomes, values: max(values) >= SOLVED):
    """DEAP's CMA-ES with its defaults (lambda = 4 + 3 ln n), sigma 1, from the origin:
    evaluations until a generation `is_solved`, counted as esp counts them (every
    candidate of that generation), or None within `budget`."""
    np.random.seed(seed)
    strategy = cma.Strategy(centroid=[0.0] * weights, sigma=1.0)
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


def summary_line(name, results):
    solved = [r for r in results if r is not None]
    mean = statistics.mean(solved) if solved else math.nan
    median = statistics.median(solved) if solved else math.nan
    return (f"RESULT domain=double-pole optimiser={name} solved={len(solved)}/{len(results)} "
            f"mean_evaluations={mean:.0f} median_evaluations={median:.0f}")


def main():
    creator.create("FitnessMax", base.Fitness, weights=(1.0,))
    creator.create("Individual", list, fitness=creator.FitnessMax)
    weights = WEIGHTS
    with tempfile.TemporaryDirectory(prefix="optimisers-") as work, \
            Espd("--workers", "1", binary=os.path.join(RELEASE, "espd"), defer_start=True, storage_args=[]) as server:
        server.admin("users", "add", "bench@example.com", "--scopes", "esp:read esp:write",
                     password="bench-password\n")
        server.start()
        token = call(server.url("/auth"), "POST",
                     json_body={"email": "bench@example.com", "password": "bench-password"}).json()["token"]
        through_service = {}
        for algorithm, label in (("ga", "esp-ga"), ("cma_es", "esp-cma-es"), ("sep_cma_es", "esp-sep-cma-es")):
            results = through_service[label] = []
            for seed in range(1, seeds + 1):
                results.append(esp_run(server, token, seed, work, algorithm))
                print(f"{label} seed {seed}: {results[-1] or 'not solved'}", flush=True)
        evaluate = DomainEval(os.path.join(ROOT, "examples", "double-pole.json"), "double-pole", "steps")
        try:
            cmaes = []
            for seed in range(1, seeds + 1):
                cmaes.append(deap_cma_es(evaluate, seed, weights, budget))
                print(f"DEAP CMA-ES seed {seed}: {cmaes[-1] or 'not solved'}", flush=True)
        finally:
            evaluate.close()
    print(f"double pole with velocities, network 6-5-1 ({weights} weights), budget {budget} evaluations, "
          f"{seeds} seeds")
    for label, results in through_service.items():
        print(summary_line(label, results))
    print(summary_line("deap-cma-es", cmaes))


if __name__ == "__main__":
    main()
