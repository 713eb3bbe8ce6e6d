"""esp_client's ask/tell on a big generation against a release espd: per generation,
ask (the REST download of the checkpoint decoded into Candidates) as protobuf (the
default with python3-protobuf) and as JSON (base64 interpretations), each beside its
floor: fetching the same answer's bytes with http.client alone; and tell (metrics by
id, espd breeding the next generation, long-poll).

Usage: /usr/bin/python3 bench/python/ask_tell.py [population] [generations]
(default P=10,000 W=10,099: 100 inputs, 99 tanh units, 1 output; 3 generations).
Ends with  RESULT case=<P>x<W> client=python ask_ms=... raw_ms=... ask_json_ms=...
raw_json_ms=... tell_ms=..."""
import http.client
import os
import sys
import time

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
sys.path[:0] = [os.path.join(ROOT, "python"), os.path.join(ROOT, "tests", "support")]
import numpy as np  # noqa: E402

import esp_client  # noqa: E402
from espd import Espd  # noqa: E402

population = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
generations = int(sys.argv[2]) if len(sys.argv) > 2 else 3
inputs, hidden = 100, 99
weights = inputs * hidden + hidden + hidden + 1
params = {
    "network": {"inputs": [{"name": "context", "size": inputs}],
                "hidden_layers": [{"layer_name": "hidden_1", "layer_params": {"units": hidden}}],
                "outputs": [{"name": "action", "size": 1}]},
    "evolution": {"population_size": population, "nb_elites": population // 10, "mutation_type": "gaussian_noise_fixed",
                  "mutation_probability": 0.1, "mutation_factor": 0.1,
                  "fitness": [{"metric_name": "score", "maximize": True}], "seed": 1},
}

with Espd("--workers", "1", binary=os.path.join(ROOT, "build", "release", "espd"), defer_start=True,
          storage_args=[]) as server:
    server.admin("users", "add", "bench@example.com", "--scopes", "esp:read esp:write", password="bench-password\n")
    server.start()
    client = esp_client.Client(server.url(""), email="bench@example.com", password="bench-password")
    plain = esp_client.Client(server.url(""), email="bench@example.com", password="bench-password", protobuf=False)
    exp = client.experiment("ask-tell", params)
    exp.ask()  # the seed
    times = {"ask": [], "raw": [], "ask_json": [], "raw_json": [], "tell": []}

    def raw_get(accept):
        """The floor: the same answer's bytes, read and nothing more."""
        connection = http.client.HTTPConnection("127.0.0.1", server.http_port, timeout=600)
        path = f"/v1/experiments/ask-tell/checkpoints/{exp.checkpoint_id.replace('/', '%2F')}"
        started = time.perf_counter()
        connection.request("GET", path, headers={"Authorization": f"Bearer {client._token}", "Accept": accept})
        size = len(connection.getresponse().read())
        connection.close()
        return time.perf_counter() - started, size

    def timed(function):
        started = time.perf_counter()
        value = function()
        return time.perf_counter() - started, value

    for _ in range(generations):
        seconds, size = raw_get("application/x-protobuf")
        times["raw"].append(seconds)
        seconds, json_size = raw_get("application/json")
        times["raw_json"].append(seconds)
        seconds, pop = timed(lambda: plain.population(exp.id, exp.checkpoint_id, exp.network))
        times["ask_json"].append(seconds)
        del pop
        exp._population = None  # ask() downloads it again, timed
        seconds, pop = timed(exp.ask)
        times["ask"].append(seconds)
        assert len(pop) == population and pop[0].genome.size == weights
        metrics = {c.id: {"score": float(c.genome[0])} for c in pop}
        seconds, _ = timed(lambda: exp.tell(metrics))
        times["tell"].append(seconds)
        print(f"generation {pop.generation}: " + ", ".join(f"{k} {v[-1] * 1e3:.0f} ms" for k, v in times.items())
              + f"; answers {size / 2**20:.0f} MiB protobuf, {json_size / 2**20:.0f} MiB JSON", flush=True)
    x = np.random.default_rng(0).uniform(-1, 1, (1000, inputs))
    started = time.perf_counter()
    for c in pop[:100]:
        c.predict(x)
    predict_ms = (time.perf_counter() - started) * 10  # per candidate, 1,000 rows
    means = {k: np.mean(v) * 1e3 for k, v in times.items()}
    print(f"RESULT case={population}x{weights} client=python "
          + " ".join(f"{k}_ms={v:.0f}" for k, v in means.items())
          + f" ask_over_raw={means['ask'] / means['raw']:.2f} ask_json_over_raw_json={means['ask_json'] / means['raw_json']:.2f}"
          + f" predict_1000_rows_ms={predict_ms:.2f}")
