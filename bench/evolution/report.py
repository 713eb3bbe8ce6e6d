#!/usr/bin/env python3
"""Prints the evolution benchmark table: esp's medians against the peers' times."""
import json
import sys


def medians(path):
    runs = json.load(open(path))["benchmarks"]
    return {r["run_name"]: r["real_time"] for r in runs if r.get("aggregate_name") == "median"}


def main():
    esp = medians(sys.argv[1])
    peers = json.load(open(sys.argv[2]))
    threads = max(int(name.split("/")[4]) for name in esp if name.startswith("GenerationStep/"))

    def step(p, w, m, t):
        return esp[f"GenerationStep/{p}/{w}/{m}/{t}/real_time"]

    print("| measurement | esp (ms) | peer (ms) | ratio |")
    print("|---|---|---|---|")
    for p, w, m, peer in [(1000, 10000, 2, "deap 1000 10001 2"), (10000, 100, 3, "deap 10000 101 3")]:
        for t in sorted({1, threads}):
            ours = step(p, w, m, t)
            print(f"| step P={p} W~{w} M={m}, {t} thread(s) vs DEAP | {ours:.2f} | {peers[peer]:.0f} | "
                  f"{peers[peer] / ours:.0f}x faster |")
    for p, w in [(1000, 10000), (10000, 100), (100000, 100)]:
        floor = esp[f"CopyFloor/{p}/{w}"]
        m = 2 if p != 10000 else 3
        ours = step(p, w, m, threads)
        print(f"| step P={p} W~{w} M={m}, {threads} threads vs copy floor | {ours:.2f} | {floor:.2f} | "
              f"{ours / floor:.1f}x the floor |")
    for n, m in [(10000, 2), (10000, 3)]:
        ours = esp[f"NondominatedSort/{n}/{m}"]
        peer = peers[f"pagmo {n} {m}"]
        print(f"| sort N={n} M={m} vs pagmo2 | {ours:.2f} | {peer:.0f} | {peer / ours:.0f}x faster |")
    for n, m in [(100000, 2), (100000, 3)]:
        print(f"| sort N={n} M={m} | {esp[f'NondominatedSort/{n}/{m}']:.1f} | | |")
    for t in sorted({1, threads}):
        ours = esp[f"InitialPopulation/1000/10000/{t}/real_time"]
        print(f"| initial population P=1000 W~10000 (orthogonal), {t} thread(s) | {ours:.1f} | | |")


if __name__ == "__main__":
    main()
