"""The door: a Client for one espd, and Experiments to ask and tell."""
from __future__ import annotations

import copy
import math
import urllib.parse
from typing import Any, Iterator, Mapping

import numpy as np

from ._http import Transport
from .candidates import Candidate, Population
from .errors import AuthenticationError, ConflictError, OperationFailed
from .network import Network

# A failed operation's error code as the HTTP status the same refusal has elsewhere.
_STATUS_OF_CODE = {"invalid_argument": 400, "failed_precondition": 409, "not_found": 404,
                   "resource_exhausted": 413, "unavailable": 503}

REPRESENTATION = "NNWeightsBinary"
# The longest long-poll espd grants on an operation.
_WAIT_S = 60


def _quote(text: str) -> str:
    return urllib.parse.quote(text, safe="")


class Client:
    """One espd (REST). Give a token, or an email and password to sign in with
    (POST /auth; signed in again when the token expires)."""

    def __init__(self, url: str, token: str | None = None, *, email: str | None = None,
                 password: str | None = None, timeout: float = 300.0, ca_file: str | None = None,
                 protobuf: bool | None = None):
        """protobuf: download generations as espd's protobuf answer rather than JSON
        (default: when python3-protobuf is installed)."""
        if token is None and (email is None or password is None):
            raise ValueError("give a token, or an email and a password")
        from ._protobuf import PopulationResponse

        if protobuf and PopulationResponse is None:
            raise ValueError("protobuf=True needs the protobuf package (Debian's python3-protobuf)")
        self.protobuf = PopulationResponse is not None if protobuf is None else protobuf
        self.url = url
        self._transport = Transport(url, timeout, ca_file)
        self._email, self._password = email, password
        self._token = token or self._sign_in()

    def _sign_in(self) -> str:
        answer = self._transport.call("POST", "/auth", {"email": self._email, "password": self._password})
        return answer["token"]

    def call(self, method: str, path: str, body: Any = None, accept: str = "application/json") -> Any:
        """One REST call with this client's token: the JSON answer (bytes for another
        `accept`), or an EspError."""
        try:
            return self._transport.call(method, path, body, token=self._token, accept=accept)
        except AuthenticationError as error:
            if error.status != 401 or self._email is None:
                raise
            self._token = self._sign_in()
            return self._transport.call(method, path, body, token=self._token, accept=accept)

    def population(self, experiment_id: str, checkpoint_id: str, network: Network) -> Population:
        """A stored checkpoint's candidates."""
        path = f"/v1/experiments/{_quote(experiment_id)}/checkpoints/{_quote(checkpoint_id)}"
        if self.protobuf:
            return Population.from_protobuf(self.call("GET", path, accept="application/x-protobuf"),
                                            experiment_id, network)
        return Population.from_json(self.call("GET", path), network)

    def experiment(self, experiment_id: str, params: Mapping[str, Any] | None = None) -> "Experiment":
        """Creates the experiment, or opens it when it exists with the same network
        (its evolution settings may differ: they apply from the next generation).
        Without params it must exist. Candidates come as NNWeightsBinary, which
        `LEAF.representation` is set to when absent."""
        if params is None:
            record = self.call("GET", f"/v1/experiments/{_quote(experiment_id)}")
            return Experiment(self, record)
        params = copy.deepcopy(dict(params))
        leaf = params.setdefault("LEAF", {})
        leaf.setdefault("representation", REPRESENTATION)
        _check_representation(leaf["representation"], "params")
        try:
            record = self.call("POST", "/v1/experiments", {"id": experiment_id, "params": params})
            return Experiment(self, record)
        except ConflictError:
            record = self.call("GET", f"/v1/experiments/{_quote(experiment_id)}")
        stored = record["params"]
        if stored.get("network") != params.get("network"):
            raise ConflictError(409, "experiment exists with another network",
                                f"experiment {experiment_id!r} was made with another network; "
                                "use a new experiment id for this one")
        return Experiment(self, record, params_for_next=params)

    def experiments(self) -> list[dict[str, Any]]:
        """This caller's experiments (id, params, generation, latest_checkpoint, ...)."""
        found, token = [], None
        while True:
            query = "?page_size=500" + (f"&page_token={_quote(token)}" if token else "")
            page = self.call("GET", f"/v1/experiments{query}")
            found += page["experiments"]
            token = page.get("next_page_token")
            if not token:
                return found


def _check_representation(representation: str, where: str) -> None:
    if representation != REPRESENTATION:
        raise ValueError(f"esp_client reads {REPRESENTATION} candidates; {where} name "
                         f"LEAF.representation {representation!r} (leave it out, or use {REPRESENTATION})")


class Objectives:
    """The experiment's fitness: metric names, which are maximised, the early-stop target."""

    def __init__(self, evolution: Mapping[str, Any]):
        fitness = evolution.get("fitness") or [{"metric_name": "score", "maximize": True}]
        self.names = [f["metric_name"] for f in fitness]
        self.maximize = [bool(f.get("maximize", True)) for f in fitness]
        self.target = fitness[0].get("target") if evolution.get("early_stop") else None

    def costs(self, metrics: list[Mapping[str, float]]) -> np.ndarray:
        """(n, objectives) values to minimise; NaN where a metric is missing."""
        out = np.full((len(metrics), len(self.names)), np.nan)
        for i, m in enumerate(metrics):
            for j, (name, up) in enumerate(zip(self.names, self.maximize)):
                if name in m:
                    out[i, j] = -m[name] if up else m[name]
        return out

    def reached(self, metrics: list[Mapping[str, float]]) -> bool:
        """Whether the best candidate reached fitness[0].target (with early_stop), as espd decides."""
        if self.target is None:
            return False
        values = [m[self.names[0]] for m in metrics if self.names[0] in m]
        if not values:
            return False
        return max(values) >= self.target if self.maximize[0] else min(values) <= self.target


def nondominated(costs: np.ndarray) -> list[int]:
    """Indices of the rows no other row dominates (every column minimised); rows with
    a NaN are left out."""
    complete = np.flatnonzero(~np.isnan(costs).any(axis=1))
    order = complete[np.lexsort(costs[complete].T[::-1])]
    front: list[int] = []
    for i in order:
        # Sorted lexicographically, no later row can dominate an earlier one.
        if front:
            kept = costs[front]
            if np.any(np.all(kept <= costs[i], axis=1) & np.any(kept < costs[i], axis=1)):
                continue
            if np.any(np.all(kept == costs[i], axis=1)):
                continue  # a duplicate of a kept point
        front.append(int(i))
    return front


class Experiment:
    """One experiment: ask for a generation's candidates, tell their metrics."""

    def __init__(self, client: Client, record: Mapping[str, Any],
                 params_for_next: Mapping[str, Any] | None = None):
        self.client = client
        self.id: str = record["id"]
        self.params: dict[str, Any] = dict(params_for_next or record["params"])
        _check_representation(record["params"].get("LEAF", {}).get("representation", "KerasNN"),
                              f"experiment {self.id!r}'s parameters")
        # Sent with each generation request while they differ from the stored ones.
        self._params_to_send = params_for_next if params_for_next and params_for_next != record["params"] else None
        self.network = Network(self.params["network"])
        self.objectives = Objectives(self.params.get("evolution", {}))
        self.generation: int = int(record.get("generation", 0))
        self.checkpoint_id: str | None = record.get("latest_checkpoint")
        self._population: Population | None = None
        self._best: tuple[float, Candidate] | None = None
        self._front: list[Candidate] = []

    def _path(self, tail: str = "") -> str:
        return f"/v1/experiments/{_quote(self.id)}{tail}"

    def ask(self) -> Population:
        """This generation's candidates: the seed on first use, else the current
        checkpoint's population (downloaded once)."""
        if self.checkpoint_id is None:
            self._request_generation({})
        if self._population is None or self._population.checkpoint_id != self.checkpoint_id:
            self._population = self.client.population(self.id, self.checkpoint_id, self.network)
            self.generation = self._population.generation
        return self._population

    def tell(self, metrics: Mapping[str, Mapping[str, float]]) -> None:
        """Sends {candidate id: {metric: value}} for the asked population and waits
        (long-polling) until espd has bred the next generation, which ask() then
        returns. Non-finite values are left out (the candidate ranks last, as espd
        ranks a missing metric)."""
        population = self.ask()
        known = {c.id for c in population}
        unknown = [str(i) for i in metrics if str(i) not in known]
        if unknown:
            raise ValueError(f"{len(unknown)} ids are not candidates of {population.checkpoint_id}, "
                             f"e.g. {unknown[0]!r}: tell the metrics of the population ask() gave")
        told = []
        for candidate_id, values in metrics.items():
            told.append({"id": str(candidate_id),
                         "metrics": {str(k): float(v) for k, v in values.items() if math.isfinite(float(v))}})
        self._request_generation({"checkpoint_id": population.checkpoint_id, "population": told})
        self._remember(population, {entry["id"]: entry["metrics"] for entry in told})

    def _request_generation(self, body: dict[str, Any]) -> None:
        if self._params_to_send is not None:
            body["params"] = self._params_to_send
        operation = self.client.call("POST", self._path("/generations"), body)
        while operation["status"] in ("queued", "running"):
            operation = self.client.call("GET", f"/v1/operations/{_quote(operation['id'])}?wait={_WAIT_S}")
        if operation["status"] != "succeeded":
            error = operation.get("error", {})
            status = _STATUS_OF_CODE.get(error.get("code"), 500)
            raise OperationFailed(status, f"generation {operation['status']}",
                                  error.get("message", operation["status"]))
        self.checkpoint_id = operation["result"]["checkpoint_id"]
        self.generation = int(operation["result"]["generation"])

    def _remember(self, population: Population, metrics: Mapping[str, Mapping[str, float]]) -> None:
        """Keeps the best candidate seen so far and the latest told generation's front."""
        candidates = [c for c in population if c.id in metrics]
        if not candidates:
            return
        costs = self.objectives.costs([metrics[c.id] for c in candidates])
        scored = [_with_metrics(c, metrics[c.id]) for c in candidates]
        first = costs[:, 0]
        if not np.isnan(first).all():
            i = int(np.nanargmin(first))
            if self._best is None or first[i] < self._best[0]:
                self._best = (float(first[i]), scored[i])
        self._front = [scored[i] for i in nondominated(costs)]

    def best(self) -> Candidate | None:
        """The best candidate told so far by the first fitness objective (with its
        metrics); before any tell, the best elite of the current population."""
        if self._best is None and self.checkpoint_id is not None:
            elites = [c for c in self.ask() if c.metrics]
            if elites:
                self._remember(Population(self.id, "", 0, elites, None), {c.id: c.metrics for c in elites})
        return self._best[1] if self._best else None

    def pareto(self) -> list[Candidate]:
        """The non-dominated candidates of the latest told generation (one objective: the best)."""
        return list(self._front)

    def resume(self, checkpoint_id: str) -> Population:
        """Continues from a stored checkpoint: ask() returns its population and tell()
        breeds from it."""
        self._population = self.client.population(self.id, checkpoint_id, self.network)
        self.checkpoint_id = self._population.checkpoint_id
        self.generation = self._population.generation
        return self._population

    def checkpoints(self) -> Iterator[dict[str, Any]]:
        """The stored checkpoints, oldest first (id, generation, size_bytes, created_at)."""
        token = None
        while True:
            query = "?page_size=500" + (f"&page_token={_quote(token)}" if token else "")
            page = self.client.call("GET", self._path(f"/checkpoints{query}"))
            yield from page["checkpoints"]
            token = page.get("next_page_token")
            if not token:
                return

    def train(self, evaluator, generations: int | None = None, *, workers: int | None = None,
              dask: str | None = None, folder: str | None = None, progress: bool = True):
        """Evaluates generation after generation with `evaluator` (an Evaluator) until
        generation `generations` (default evolution.nb_generations) has been told,
        or fitness[0].target is reached with early_stop. `workers` processes (default
        LEAF.max_workers, else 1), or the Dask scheduler at `dask` ("tcp://host:port").
        With `folder` (default LEAF.persistence_dir): stats.csv (one row per
        generation), best.json and pareto/ (Candidate.load reads them). Interrupted
        (Ctrl-C), it resumes from the last checkpoint when called again. Returns a
        TrainResult."""
        from .training import train

        return train(self, evaluator, generations, workers=workers, dask=dask, folder=folder, progress=progress)

    def __repr__(self) -> str:
        return f"Experiment({self.id!r}, generation={self.generation})"


def _with_metrics(candidate: Candidate, metrics: Mapping[str, float]) -> Candidate:
    copied = copy.copy(candidate)
    copied.metrics = dict(metrics)
    return copied



