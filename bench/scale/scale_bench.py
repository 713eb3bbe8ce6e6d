"""Generation throughput of 1, 2 and 3 espd replicas on PostgreSQL + S3 (s3rver)
behind nginx, against one replica on the embedded SQLite store behind the same
nginx (and one on PostgreSQL with checkpoint files): the same experiments, driven the same way (tests/support/cluster.py), in
alternating rounds so each ratio compares runs made moments apart.

Usage: scale_bench.py EXPERIMENTS GENERATIONS ROUNDS
(run by bench/scale/run.sh, which starts PostgreSQL and s3rver)"""
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "support"))
from cluster import Cluster, drive  # noqa: E402
from espd import postgres_database_args, s3_bucket_args  # noqa: E402

experiments, generations, rounds = map(int, sys.argv[1:4])
PARAMS = {
    "network": {
        "inputs": [{"name": "context", "size": 16}],
        "hidden_layers": [{"layer_params": {"units": 64, "activation": "tanh"}}],
        "outputs": [{"name": "action", "size": 4, "activation": "softmax"}],
    },
    "evolution": {"population_size": 100, "nb_elites": 10, "initialization_distribution": "orthogonal"},
}
# postgres+files (one replica: its checkpoint files are its own) separates the
# database's cost from the object store's.
CONFIGS = [("sqlite", 1), ("postgres+files", 1), ("postgres+s3", 1), ("postgres+s3", 2), ("postgres+s3", 3)]
STORAGE = {"sqlite": lambda: [], "postgres+files": postgres_database_args,
           "postgres+s3": lambda: postgres_database_args() + s3_bucket_args()}


def measure(store, replicas, round_index):
    cluster = Cluster(replicas, storage_args=STORAGE[store]())
    try:
        started = time.monotonic()
        drivers = drive(cluster.balancer.url(""), cluster.headers, experiments, generations, PARAMS,
                        prefix=f"r{round_index}")
        seconds = time.monotonic() - started
    finally:
        cluster.close()
    jobs = sum(len(d.operations) for d in drivers)
    assert jobs == experiments * generations, jobs
    return jobs / seconds


def main():
    cores = os.cpu_count()
    print(f"{experiments} experiments x {generations} generations = {experiments * generations} jobs per run, "
          f"population 100, {16 * 64 + 64 + 64 * 4 + 4} weights; {cores} cores; "
          f"each replica runs the default workers (one per core)")
    throughput = {config: [] for config in CONFIGS}
    ratios = {config: [] for config in CONFIGS}
    for round_index in range(rounds):
        this_round = {config: measure(*config, round_index) for config in CONFIGS}
        for config, jobs_per_s in this_round.items():
            throughput[config].append(jobs_per_s)
            ratios[config].append(jobs_per_s / this_round[CONFIGS[0]])
        print(f"round {round_index + 1}: " + ", ".join(f"{s} x{n} {v:.1f} jobs/s" for (s, n), v in this_round.items()),
              flush=True)
    print()
    print("| store | replicas | jobs/s (median) | vs 1 replica on SQLite (median of per-round ratios) |")
    print("|---|---|---|---|")
    for (store, replicas) in CONFIGS:
        print(f"| {store} | {replicas} | {statistics.median(throughput[(store, replicas)]):.1f} | "
              f"{statistics.median(ratios[(store, replicas)]):.2f} |")


if __name__ == "__main__":
    main()
