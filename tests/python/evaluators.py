"""Evaluators the training tests send to worker processes and Dask workers (importable
there, as Dask needs)."""
import os
import time

import numpy as np

import esp_client

CONTEXTS = np.random.default_rng(3).uniform(-1, 1, size=(64, 3)).astype(np.float32)


def wanted(contexts):
    """The action a perfect prescriptor would take: both outputs follow the context."""
    return np.stack([(contexts[:, 0] > 0), (contexts[:, 1] + contexts[:, 2] > 0)], axis=1).astype(np.float32)


class Imitation(esp_client.Evaluator):
    """score: how close the candidate's action is to wanted(); pid: which process ran it."""

    def __init__(self, delay_s=0.0):
        self.delay_s = delay_s

    def evaluate_candidate(self, candidate):
        if self.delay_s:
            time.sleep(self.delay_s)
        action = candidate.predict({"context": CONTEXTS})["action"]
        return {"score": float(1 - np.abs(action - wanted(CONTEXTS)).mean()), "pid": os.getpid()}


class Broken(esp_client.Evaluator):
    def evaluate_candidate(self, candidate):
        return "not metrics"
