"""A generation's candidates as the client sees them: id, weights, a forward pass."""
from __future__ import annotations

import base64
import json
import os
from typing import Any, Iterator, Mapping, Sequence

import numpy as np

from .network import Layer, Network


class Candidate:
    """One prescriptor of a generation.

    `id` is what its metrics are told under; `identity` says how it was made
    (birth_generation, ancestor_ids, origin, elite); `metrics` holds what it was
    evaluated with when it is an elite carried over (else None). Pickles as its
    bytes, so it travels cheaply to worker processes and Dask workers."""

    __slots__ = ("id", "identity", "metrics", "network", "_data", "_layers", "_flat")

    def __init__(self, candidate_id: str, data: bytes, network: Network,
                 identity: Mapping[str, Any] | None = None, metrics: Mapping[str, float] | None = None):
        self.id = candidate_id
        self.identity = dict(identity or {})
        self.metrics = dict(metrics) if metrics is not None else None
        self.network = network
        self._data = data
        layers, flat = network.layers(data)
        self._layers: list[Layer] = layers
        self._flat: np.ndarray = flat

    @property
    def layers(self) -> list[Layer]:
        """The Dense layers in genome order (input branches, hidden layers, heads)."""
        return list(self._layers)

    @property
    def weights(self) -> dict[str, list[np.ndarray]]:
        """Layer name -> [kernel, bias] as float32 numpy arrays (read-only views)."""
        return Network.weights(self._layers, self._flat)

    @property
    def genome(self) -> np.ndarray:
        """Every weight in genome order, one read-only float32 array."""
        return self._flat

    @property
    def interpretation(self) -> bytes:
        """The candidate's NNWeightsBinary bytes, as espd sent them."""
        return self._data

    def predict(self, inputs) -> dict[str, np.ndarray]:
        """Runs the network on n rows at once: {input name: (n, size) array} (or one
        array for a single-input network) -> {output name: (n, size) array}."""
        return self.network.forward(self._layers, self._flat, inputs)

    def to_json(self) -> dict[str, Any]:
        """Everything needed to rebuild it (Candidate.from_json), network included."""
        return {"id": self.id, "identity": self.identity, "metrics": self.metrics,
                "network": self.network.spec, "representation": "NNWeightsBinary",
                "interpretation": base64.b64encode(self._data).decode()}

    @classmethod
    def from_json(cls, document: Mapping[str, Any]) -> "Candidate":
        return cls(document["id"], base64.b64decode(document["interpretation"]), Network(document["network"]),
                   document.get("identity"), document.get("metrics"))

    def save(self, path: str | os.PathLike) -> None:
        """Writes to_json() to `path` (replaced whole: written aside, then renamed)."""
        temporary = f"{os.fspath(path)}.tmp"
        with open(temporary, "w") as f:
            json.dump(self.to_json(), f)
        os.replace(temporary, path)

    @classmethod
    def load(cls, path: str | os.PathLike) -> "Candidate":
        """A candidate saved with save() (e.g. by Experiment.train's folder)."""
        with open(path) as f:
            return cls.from_json(json.load(f))

    def __copy__(self) -> "Candidate":
        copied = object.__new__(Candidate)
        for name in Candidate.__slots__:
            setattr(copied, name, getattr(self, name))
        copied.identity = dict(self.identity)
        copied.metrics = dict(self.metrics) if self.metrics is not None else None
        return copied

    def __reduce__(self):
        return (_rebuild, (self.id, bytes(self._data), self.network.spec, self.identity, self.metrics))

    def __repr__(self) -> str:
        return f"Candidate({self.id!r}, weights={self._flat.size})"


def _rebuild(candidate_id, data, network, identity, metrics) -> Candidate:
    return Candidate(candidate_id, data, Network(network), identity, metrics)


class Population(Sequence[Candidate]):
    """The candidates of one checkpoint, in the order espd made them."""

    def __init__(self, experiment_id: str, checkpoint_id: str, generation: int,
                 candidates: list[Candidate], evaluation_stats: Mapping[str, Any] | None):
        self.experiment_id = experiment_id
        self.checkpoint_id = checkpoint_id
        self.generation = generation
        self.candidates = candidates
        # Statistics of the evaluated population this one was bred from (None for the seed).
        self.evaluation_stats = dict(evaluation_stats) if evaluation_stats else None

    @classmethod
    def from_json(cls, document: Mapping[str, Any], network: Network) -> "Population":
        candidates = [Candidate(c["id"], base64.b64decode(c["interpretation"]), network, c.get("identity"),
                                c.get("metrics")) for c in document["population"]]
        return cls(document["experiment_id"], document["checkpoint_id"], int(document["generation"]),
                   candidates, document.get("evaluation_stats"))

    @classmethod
    def from_protobuf(cls, data: bytes, experiment_id: str, network: Network) -> "Population":
        """From espd's protobuf answer (the gRPC PopulationResponse's bytes)."""
        from ._protobuf import PopulationResponse

        message = PopulationResponse.FromString(data)
        candidates = [Candidate(c.id, c.interpretation, network, json.loads(c.identity) if c.identity else None,
                                json.loads(c.metrics) if c.metrics else None) for c in message.population]
        stats = json.loads(message.evaluation_stats) if message.evaluation_stats else None
        return cls(experiment_id, message.checkpoint_id, message.generation_count, candidates, stats)

    def __getitem__(self, index):
        return self.candidates[index]

    def __len__(self) -> int:
        return len(self.candidates)

    def __iter__(self) -> Iterator[Candidate]:
        return iter(self.candidates)

    def by_id(self, candidate_id: str) -> Candidate:
        for candidate in self.candidates:
            if candidate.id == candidate_id:
                return candidate
        raise KeyError(candidate_id)

    def __repr__(self) -> str:
        return f"Population({self.checkpoint_id!r}, {len(self)} candidates)"
