"""Evolutionary Surrogate-assisted Prescription end to end, with esp_client.

A hidden simulator stands for the world: a context (two observed features) and an
action (how much of something costly to apply, 0 to 1) give an outcome, with noise.
All we have is its history: the decisions people made, noisily, and what came of
them. So:

1. a predictor is trained on that history with scikit-learn (context, action -> outcome);
2. prescriptors (context -> action networks) are evolved by esp against the
   predictor, with two objectives: a high predicted outcome and a low cost (the action);
3. the evolved Pareto front is checked on the *true* simulator against the baseline
   policies: the historical one, random actions and fixed actions; and plotted.

    python3 examples/python/surrogate_prescriptions.py --url http://127.0.0.1:8080 \
        --email you@example.com --password ... --out results/

(docs/python.md). tests/python/test_example.py runs a small version."""
from __future__ import annotations

import argparse
import getpass
import json
import os
from dataclasses import dataclass

import numpy as np

import esp_client

NOISE = 0.05              # of the observed outcome
HISTORICAL_SPREAD = 0.2   # how far people's decisions strayed from the best action


def best_action(contexts: np.ndarray) -> np.ndarray:
    """What the simulator rewards most, unknown to everyone."""
    return 0.1 + 0.8 * contexts[:, 0] * contexts[:, 1]


def true_outcome(contexts: np.ndarray, actions: np.ndarray) -> np.ndarray:
    """The simulator's expected outcome: best at best_action(), worse either side."""
    return 1 - 3 * (actions - best_action(contexts)) ** 2


def historical_policy(contexts: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """People knew roughly what to do, and did it with a spread."""
    return np.clip(best_action(contexts) + rng.normal(0, HISTORICAL_SPREAD, len(contexts)), 0, 1)


def history(rows: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The data a data scientist is given: contexts, the actions taken, observed outcomes."""
    contexts = rng.uniform(0, 1, size=(rows, 2))
    actions = historical_policy(contexts, rng)
    outcomes = true_outcome(contexts, actions) + rng.normal(0, NOISE, rows)
    return contexts, actions, outcomes


def train_predictor(contexts, actions, outcomes, seed: int):
    """The surrogate: (context, action) -> outcome, a gradient-boosted tree model."""
    from sklearn.ensemble import HistGradientBoostingRegressor

    model = HistGradientBoostingRegressor(max_iter=300, learning_rate=0.1, random_state=seed)
    return model.fit(np.column_stack([contexts, actions]), outcomes)


class SurrogateEvaluator(esp_client.Evaluator):
    """Scores a prescriptor on the historical contexts with the predictor alone: the
    mean predicted outcome of its actions, and their mean cost."""

    def __init__(self, predictor, contexts: np.ndarray):
        self.predictor = predictor
        self.contexts = contexts

    def evaluate_candidate(self, candidate: esp_client.Candidate) -> dict[str, float]:
        actions = candidate.predict({"context": self.contexts})["action"][:, 0]
        outcome = self.predictor.predict(np.column_stack([self.contexts, actions]))
        return {"outcome": float(outcome.mean()), "cost": float(actions.mean())}


def experiment_params(population: int, generations: int, seed: int) -> dict:
    return {
        "network": {"inputs": [{"name": "context", "size": 2, "values": ["float"]}],
                    "hidden_layers": [{"layer_name": "hidden_1", "layer_type": "Dense",
                                       "layer_params": {"units": 8, "activation": "tanh", "use_bias": True}}],
                    "outputs": [{"name": "action", "size": 1, "activation": "sigmoid", "use_bias": True}]},
        "evolution": {"nb_generations": generations, "population_size": population,
                      "nb_elites": max(2, population // 10), "parent_selection": "tournament",
                      "remove_population_pct": 0.5, "mutation_type": "gaussian_noise_fixed",
                      "mutation_probability": 0.2, "mutation_factor": 0.3,
                      "initialization_distribution": "orthogonal", "initialization_range": 1,
                      "fitness": [{"metric_name": "outcome", "maximize": True},
                                  {"metric_name": "cost", "maximize": False}],
                      "seed": seed},
        "LEAF": {"representation": "NNWeightsBinary", "reevaluate_elites": False},
    }


@dataclass
class Point:
    """A policy measured on the true simulator."""
    name: str
    outcome: float
    cost: float

    def dominates(self, other: "Point") -> bool:
        return (self.outcome >= other.outcome and self.cost <= other.cost
                and (self.outcome > other.outcome or self.cost < other.cost))


def baselines(contexts: np.ndarray, rng: np.random.Generator) -> list[Point]:
    policies = {"historical": historical_policy(contexts, rng), "random": rng.uniform(0, 1, len(contexts))}
    policies.update({f"fixed {a:g}": np.full(len(contexts), a) for a in (0.25, 0.5, 0.75)})
    return [Point(name, float(true_outcome(contexts, a).mean()), float(a.mean())) for name, a in policies.items()]


def run(client: esp_client.Client, experiment_id: str = "surrogate-prescriptions", generations: int = 60,
        population: int = 60, seed: int = 1, workers: int = 1, out: str | None = None) -> dict:
    """The whole story; returns the evolved front and the baselines, both measured on
    the true simulator, and writes front.png (and the training folder) under `out`."""
    rng = np.random.default_rng(seed)
    contexts, actions, outcomes = history(4000, rng)
    predictor = train_predictor(contexts, actions, outcomes, seed)
    evaluator = SurrogateEvaluator(predictor, contexts[:300])
    exp = client.experiment(experiment_id, experiment_params(population, generations, seed))
    result = exp.train(evaluator, workers=workers, folder=os.path.join(out, "training") if out else None)

    fresh = rng.uniform(0, 1, size=(5000, 2))  # contexts none of the models saw
    front = []
    for candidate in result.pareto:
        prescribed = candidate.predict({"context": fresh})["action"][:, 0]
        front.append(Point(candidate.id, float(true_outcome(fresh, prescribed).mean()), float(prescribed.mean())))
    front.sort(key=lambda p: p.cost)
    compared = baselines(fresh, rng)
    dominated = {b.name: next((p.name for p in front if p.dominates(b)), None) for b in compared}
    summary = {"generations": result.generation, "front": [vars(p) for p in front],
               "baselines": [vars(b) for b in compared], "dominated_by": dominated}
    if out:
        os.makedirs(out, exist_ok=True)
        plot(front, compared, os.path.join(out, "front.png"))
        with open(os.path.join(out, "summary.json"), "w") as f:
            json.dump(summary, f, indent=2)
    return summary


def plot(front: list[Point], compared: list[Point], path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(7, 5))
    axes.plot([p.cost for p in front], [p.outcome for p in front], "o-", label="evolved prescriptors (Pareto front)")
    for b in compared:
        axes.scatter(b.cost, b.outcome, marker="s", s=60)
        axes.annotate(b.name, (b.cost, b.outcome), textcoords="offset points", xytext=(6, 4))
    axes.set_xlabel("cost (mean action)")
    axes.set_ylabel("outcome on the true simulator")
    axes.set_title("Prescriptors evolved against a learned predictor")
    axes.grid(alpha=0.3)
    axes.legend(loc="lower right")
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:8080")
    parser.add_argument("--token", default=os.environ.get("ESP_TOKEN"))
    parser.add_argument("--email")
    parser.add_argument("--password")
    parser.add_argument("--experiment", default="surrogate-prescriptions")
    parser.add_argument("--generations", type=int, default=60)
    parser.add_argument("--population", type=int, default=60)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--out", default="surrogate-prescriptions")
    args = parser.parse_args()
    if args.token:
        client = esp_client.Client(args.url, token=args.token)
    else:
        client = esp_client.Client(args.url, email=args.email or input("email: "),
                                   password=args.password or getpass.getpass())
    summary = run(client, args.experiment, args.generations, args.population, workers=args.workers, out=args.out)
    for b in summary["baselines"]:
        print(f"{b['name']:>12}: outcome {b['outcome']:.3f} cost {b['cost']:.3f}, "
              f"dominated by {summary['dominated_by'][b['name']] or 'nothing'}")
    print(f"front of {len(summary['front'])} prescriptors; plot in {os.path.join(args.out, 'front.png')}")


if __name__ == "__main__":
    main()
