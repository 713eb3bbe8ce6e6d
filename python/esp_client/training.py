"""The evaluator loop: ask, evaluate every candidate (here, in processes, or on a Dask
cluster), tell, until the last generation or the fitness target."""
from __future__ import annotations

import csv
import multiprocessing
import os
import pickle
import shutil
import sys
import time
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Callable, Mapping

import numpy as np

from .candidates import Candidate


class Evaluator:
    """Subclass it and implement evaluate_candidate, as the ESP SDK's EspEvaluator.
    It is sent to worker processes and Dask workers once per train() call, so it may
    hold a trained predictor; on Dask, its class must be importable there."""

    def evaluate_candidate(self, candidate: Candidate) -> Mapping[str, float]:
        """The candidate's metrics, e.g. {"score": 0.7}; those that fitness names are
        its objectives, any others are kept beside them."""
        raise NotImplementedError("implement evaluate_candidate(candidate) -> dict of metrics")


def _checked(candidate_id: str, metrics) -> dict[str, float]:
    if not isinstance(metrics, Mapping):
        raise TypeError(f"evaluate_candidate returned {type(metrics).__name__} for candidate "
                        f"{candidate_id}, not a dict of metrics")
    try:
        return {str(name): float(value) for name, value in metrics.items()}
    except (TypeError, ValueError) as error:
        raise TypeError(f"candidate {candidate_id}: metrics must be numbers ({error})") from None


def _evaluate_with(evaluator: Evaluator, candidate: Candidate) -> dict[str, float]:
    return _checked(candidate.id, evaluator.evaluate_candidate(candidate))


# A worker process's evaluator, installed once when the process starts.
_installed: Evaluator | None = None


def _install(payload: bytes) -> None:
    global _installed
    _installed = pickle.loads(payload)
    try:
        # K processes each running a K-thread OpenMP or BLAS pool would oversubscribe the
        # cores; one thread each, as joblib does for its workers.
        from threadpoolctl import threadpool_limits

        threadpool_limits(1)
    except ImportError:
        pass


def _evaluate_installed(candidate: Candidate) -> dict[str, float]:
    return _evaluate_with(_installed, candidate)


def _pickled(evaluator: Evaluator) -> bytes:
    """cloudpickle (with Dask) also carries evaluators defined in a notebook or script."""
    try:
        import cloudpickle

        return cloudpickle.dumps(evaluator)
    except ImportError:
        return pickle.dumps(evaluator)


Progress = Callable[[], None]


class _HereRunner:
    def __init__(self, evaluator: Evaluator):
        self.evaluator = evaluator

    def evaluate(self, candidates: list[Candidate], done: Progress) -> list[dict[str, float]]:
        results = []
        for candidate in candidates:
            results.append(_evaluate_with(self.evaluator, candidate))
            done()
        return results

    def close(self) -> None:
        pass


class _ProcessRunner:
    """K worker processes; each gets the evaluator once. They are started by a fork
    server (spawned where there is none), never forked from this process: a fork of a
    process whose OpenMP pool has run (scikit-learn, PyTorch) hangs in its first
    parallel region."""

    def __init__(self, evaluator: Evaluator, workers: int):
        methods = multiprocessing.get_all_start_methods()
        context = multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")
        self.pool = ProcessPoolExecutor(workers, mp_context=context, initializer=_install,
                                        initargs=(_pickled(evaluator),))

    def evaluate(self, candidates: list[Candidate], done: Progress) -> list[dict[str, float]]:
        futures = [self.pool.submit(_evaluate_installed, candidate) for candidate in candidates]
        pending = set(futures)
        while pending:
            finished, pending = wait(pending, return_when=FIRST_COMPLETED)
            for future in finished:
                future.result()  # raises the evaluator's exception at once
                done()
        return [future.result() for future in futures]

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)


class _DaskRunner:
    """The workers of a Dask scheduler; the evaluator is scattered to them once."""

    def __init__(self, evaluator: Evaluator, address: str):
        import distributed

        self.client = distributed.Client(address, set_as_default=False)
        self.evaluator = self.client.scatter(evaluator, broadcast=True, hash=False)

    def evaluate(self, candidates: list[Candidate], done: Progress) -> list[dict[str, float]]:
        futures = self.client.map(_evaluate_with, [self.evaluator] * len(candidates), candidates, pure=False)
        results = []
        for future in futures:  # in order: as good for progress, and raises the first failure
            results.append(future.result())
            done()
        return results

    def close(self) -> None:
        self.client.close()


def _runner(evaluator: Evaluator, workers: int, dask: str | None):
    if dask:
        return _DaskRunner(evaluator, dask)
    if workers < 1:
        raise ValueError(f"workers must be at least 1, got {workers}")
    return _ProcessRunner(evaluator, workers) if workers > 1 else _HereRunner(evaluator)


@dataclass
class TrainResult:
    """What train() ended with."""
    generation: int                    # the last generation told
    checkpoint_id: str | None          # the checkpoint bred from it (where to resume)
    stopped_early: bool                # fitness[0].target reached (early_stop)
    best: Candidate | None
    pareto: list[Candidate] = field(default_factory=list)


class _Folder:
    """stats.csv (appended to on resume), best.json and pareto/<id>.json."""

    def __init__(self, path: str, objectives):
        self.path = path
        os.makedirs(path, exist_ok=True)
        self.stats = os.path.join(path, "stats.csv")
        self.columns = ["generation", "checkpoint_id", "candidates"]
        for name in objectives.names:
            self.columns += [f"{name}_best", f"{name}_mean", f"{name}_min", f"{name}_max"]
        self.columns.append("seconds")
        self.objectives = objectives

    def write(self, generation: int, checkpoint_id: str, metrics: list[dict[str, float]], seconds: float,
              best: Candidate | None, pareto: list[Candidate]) -> None:
        row = [generation, checkpoint_id, len(metrics)]
        for name, up in zip(self.objectives.names, self.objectives.maximize):
            values = np.array([m[name] for m in metrics if name in m], dtype=float)
            if values.size:
                row += [values.max() if up else values.min(), values.mean(), values.min(), values.max()]
            else:
                row += ["", "", "", ""]
        row.append(round(seconds, 3))
        new = not os.path.exists(self.stats)
        with open(self.stats, "a", newline="") as f:
            out = csv.writer(f)
            if new:
                out.writerow(self.columns)
            out.writerow(row)
        if best is not None:
            best.save(os.path.join(self.path, "best.json"))
        front = os.path.join(self.path, "pareto")
        shutil.rmtree(front, ignore_errors=True)
        os.makedirs(front)
        for candidate in pareto:
            candidate.save(os.path.join(front, f"{candidate.id}.json"))


def _progress_bar(enabled: bool, total: int, initial: int):
    if not enabled:
        return None
    try:
        from tqdm import tqdm
    except ImportError:
        return None
    return tqdm(total=total, initial=initial, unit="gen", desc="generations", dynamic_ncols=True)


def train(experiment, evaluator: Evaluator, generations: int | None = None, *, workers: int | None = None,
          dask: str | None = None, folder: str | None = None, progress: bool = True) -> TrainResult:
    """Experiment.train's loop (see there)."""
    if not isinstance(evaluator, Evaluator):
        raise TypeError("evaluator must be an esp_client.Evaluator")
    leaf = experiment.params.get("LEAF", {})
    # The ESP SDK's client-side keys, where the call leaves them out.
    workers = workers if workers is not None else max(int(leaf.get("max_workers", 1) or 1), 1)
    folder = folder if folder is not None else leaf.get("persistence_dir")
    evolution = experiment.params.get("evolution", {})
    last = int(generations if generations is not None else evolution.get("nb_generations", 1))
    reuse_elites = not leaf.get("reevaluate_elites", True)
    objectives = experiment.objectives
    out = _Folder(folder, objectives) if folder else None
    runner = _runner(evaluator, workers, dask)
    bar = _progress_bar(progress, last, min(max(experiment.generation - 1, 0), last))
    stopped_early, told = False, 0
    try:
        while True:
            population = experiment.ask()
            stats = population.evaluation_stats or {}
            if population.generation > last or stats.get("early_stop", {}).get("reached"):
                stopped_early = bool(stats.get("early_stop", {}).get("reached"))
                break
            started = time.monotonic()
            to_evaluate = [c for c in population if not (reuse_elites and c.metrics)]
            step = 1 / max(len(to_evaluate), 1)
            results = runner.evaluate(to_evaluate, (lambda: bar.update(step)) if bar is not None else (lambda: None))
            metrics = {c.id: c.metrics for c in population if reuse_elites and c.metrics}
            metrics.update({c.id: m for c, m in zip(to_evaluate, results)})
            experiment.tell(metrics)
            told = population.generation
            ordered = [metrics[c.id] for c in population]
            if out:
                out.write(told, population.checkpoint_id, ordered, time.monotonic() - started,
                          experiment.best(), experiment.pareto())
            if bar is not None:
                best = experiment.best()
                if best is not None and best.metrics:
                    name = objectives.names[0]
                    bar.set_postfix({f"best {name}": best.metrics.get(name)}, refresh=False)
                bar.n = min(told, last)  # whole generations, whatever the fractions added up to
                bar.refresh()
            if objectives.reached(ordered):
                stopped_early = True
                break
            if experiment.generation > last:
                break
    except KeyboardInterrupt:
        print(f"\ninterrupted: experiment {experiment.id!r} resumes from checkpoint "
              f"{experiment.checkpoint_id} when trained again", file=sys.stderr)
        raise
    finally:
        runner.close()
        if bar is not None:
            bar.close()
    return TrainResult(told, experiment.checkpoint_id, stopped_early, experiment.best(), experiment.pareto())
