#!/usr/bin/env python3
"""Peer for one generation step: DEAP 1.3 doing what esp's next_generation does.

selNSGA2 ranks the evaluated population (non-dominated sort + crowding), then
selTournamentDCD picks parents, cxUniform recombines pairs and mutGaussian adds
noise to 10% of the weights; this is DEAP's own NSGA-II example loop. Prints the
best of `rounds` wall times in milliseconds.

Usage: deap_step.py P W M [rounds]
"""
import random
import sys
import time

from deap import base, creator, tools


def main():
    population_size, weights, objectives = (int(a) for a in sys.argv[1:4])
    rounds = int(sys.argv[4]) if len(sys.argv) > 4 else 1
    random.seed(4)
    creator.create("Fitness", base.Fitness, weights=tuple(1.0 if j % 2 == 0 else -1.0 for j in range(objectives)))
    creator.create("Individual", list, fitness=creator.Fitness)
    toolbox = base.Toolbox()
    population = []
    for _ in range(population_size):
        individual = creator.Individual(random.gauss(0, 1) for _ in range(weights))
        individual.fitness.values = tuple(random.random() for _ in range(objectives))
        population.append(individual)
    toolbox.register("mate", tools.cxUniform, indpb=0.5)
    toolbox.register("mutate", tools.mutGaussian, mu=0.0, sigma=0.1, indpb=0.1)

    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        ranked = tools.selNSGA2(population, population_size)
        offspring = [toolbox.clone(ind) for ind in tools.selTournamentDCD(ranked, population_size)]
        for first, second in zip(offspring[::2], offspring[1::2]):
            toolbox.mate(first, second)
            del first.fitness.values, second.fitness.values
        for individual in offspring:
            toolbox.mutate(individual)
        best = min(best, time.perf_counter() - start)
        for individual in population:  # selNSGA2 needs fitness; keep the originals evaluated
            assert individual.fitness.valid
    print(f"{best * 1000:.3f}")


if __name__ == "__main__":
    main()
