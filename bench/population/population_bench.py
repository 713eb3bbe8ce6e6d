"""Seed + N generations over gRPC against a running espd, as an ESP SDK client runs
them: per generation, the client's wall time for NextPopulation split into queueing,
engine and persistence (from espd's job_succeeded log line) and the rest (transport:
serialization, the network, request handling); plus espd's peak RSS.

Usage: population_bench.py GRPC_PORT TOKEN ESPD_PID ESPD_LOG POPULATION HIDDEN_UNITS
       INPUTS OUTPUTS OBJECTIVES GENERATIONS [REPRESENTATION]
REPRESENTATION: NNWeightsBinary (default), NNWeights or KerasNN; the client decodes
every candidate as an SDK client would (json.loads for NNWeights, h5py for KerasNN,
struct for the binary layout), and that time is reported apart."""
import json
import os
import random
import struct
import sys
import time

import grpc

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "support"))
from population_stubs import population_service_pb2_grpc as service  # noqa: E402
from population_stubs import population_structs_pb2 as structs  # noqa: E402

port, token, pid, log_path = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
population, hidden, inputs, outputs, objectives, generations = map(int, sys.argv[5:11])
representation = sys.argv[11] if len(sys.argv) > 11 else "NNWeightsBinary"

params = {
    "network": {
        "inputs": [{"name": "context", "size": inputs, "values": ["float"]}],
        "hidden_layers": [{"layer_name": "hidden", "layer_type": "Dense",
                           "layer_params": {"units": hidden, "activation": "tanh", "use_bias": True}}],
        "outputs": [{"name": "action", "size": outputs, "activation": "softmax", "use_bias": True}],
    },
    "evolution": {
        "population_size": population, "nb_elites": max(1, population // 10),
        "parent_selection": "tournament", "remove_population_pct": 0.8,
        "mutation_type": "gaussian_noise_percentage", "mutation_probability": 0.1, "mutation_factor": 0.1,
        "initialization_distribution": "orthogonal", "initialization_range": 1,
        "fitness": [{"metric_name": f"m{i}", "maximize": i % 2 == 0} for i in range(objectives)],
    },
    "LEAF": {"representation": representation, "version": "v1", "candidates_to_persist": "elites"},
}
weights = inputs * hidden + hidden + hidden * outputs + outputs
experiment = f"bench-{population}-{weights}-{objectives}-{int(time.time())}"
limit = (1 << 31) - 1  # protobuf's own limit: the P=100k JSON case is 1.3 GB
channel = grpc.insecure_channel(f"127.0.0.1:{port}", options=[
    ("grpc.max_receive_message_length", limit), ("grpc.max_send_message_length", limit)])
stub = service.PopulationServiceStub(channel)
metadata = [("authorization", f"Bearer {token}")]
rng = random.Random(7)


def job_lines():
    lines = {}
    with open(log_path) as f:
        for raw in f:
            try:
                line = json.loads(raw)
            except ValueError:
                continue
            if line.get("msg") == "job_succeeded":
                lines[line["checkpoint"]] = line
    return lines




def decode(interpretation):
    """What an SDK client does to every candidate before its predictor runs."""
    if representation == "NNWeights":
        return json.loads(interpretation)["model_weights"]
    if representation == "KerasNN":
        import io

        import h5py
        with h5py.File(io.BytesIO(interpretation), "r") as f:
            group = f["model_weights"]
            return {name: [group[name][w][()] for w in group[name].attrs["weight_names"]]
                    for name in group.attrs["layer_names"] if len(group[name].attrs["weight_names"])}
    count = struct.unpack_from("<I", interpretation, 8)[0]
    layers = struct.unpack_from("<H", interpretation, 6)[0]
    return struct.unpack_from(f"<{count}f", interpretation, 12 + 12 * layers)


rows = []
decode_ms = []
evaluated = None
for generation in range(generations + 1):
    request = structs.PopulationRequest(version="v1", experiment_id=experiment, config=json.dumps(params).encode())
    if evaluated is not None:
        request.evaluated_population_response.CopyFrom(evaluated)
    started = time.perf_counter()
    answer = stub.NextPopulation(request, metadata=metadata, timeout=600)
    total_ms = (time.perf_counter() - started) * 1000
    rows.append((answer.checkpoint_id, total_ms, answer.ByteSize()))
    evaluated = answer
    decode_started = time.perf_counter()
    for candidate in answer.population:
        decode(candidate.interpretation)
    decode_ms.append((time.perf_counter() - decode_started) * 1000)
    evaluated.evaluation_stats = b""
    for candidate in evaluated.population:  # the client's predictor, here random scores
        candidate.metrics = json.dumps({f"m{i}": rng.random() for i in range(objectives)}).encode()
channel.close()


def rest_download_ms(accept):
    """The last checkpoint fetched over REST, as a REST client downloads a population."""
    import urllib.parse
    import urllib.request
    url = (f"{os.environ['ESP_BENCH_HTTP']}/v1/experiments/{experiment}/checkpoints/"
           f"{urllib.parse.quote(rows[-1][0], safe='')}")
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}", "Accept": accept})
    started = time.perf_counter()
    with urllib.request.urlopen(request, timeout=600) as answer:
        answer.read()
    return (time.perf_counter() - started) * 1000


# espd's peak for the generations, before the REST downloads add their own copies.
with open(f"/proc/{pid}/status") as f:
    peak_kib = next(int(l.split()[1]) for l in f if l.startswith("VmHWM:"))
rest = ""
if os.environ.get("ESP_BENCH_HTTP"):
    rest = (f" rest_json_ms={min(rest_download_ms('application/json') for _ in range(3)):.1f}"
            f" rest_protobuf_ms={min(rest_download_ms('application/x-protobuf') for _ in range(3)):.1f}")

# espd flushes its log lines asynchronously: read until every generation's is there.
deadline = time.monotonic() + 30
lines = job_lines()
while any(c not in lines for c, _, _ in rows) and time.monotonic() < deadline:
    time.sleep(0.1)
    lines = job_lines()
print(f"| P={population} W={weights} M={objectives} {representation} | gen | total ms | transport ms | queued ms | "
      f"engine ms | persistence ms (load+encode+answer+store+record) | message MB |")
print("|---|---|---|---|---|---|---|---|")
sums = {"total": 0.0, "transport": 0.0, "queued": 0.0, "engine": 0.0, "persistence": 0.0}
for index, (checkpoint, total, size) in enumerate(rows):
    line = lines[checkpoint]
    persistence = (line["load_ms"] + line["encode_ms"] + line.get("answer_ms", 0) + line["store_ms"] +
                   line["record_ms"])
    transport = total - line["queued_ms"] - line["engine_ms"] - persistence
    label = "seed" if index == 0 else str(index + 1)
    print(f"| | {label} | {total:.1f} | {transport:.1f} | {line['queued_ms']:.1f} | {line['engine_ms']:.1f} | "
          f"{persistence:.1f} ({line['load_ms']:.0f}+{line['encode_ms']:.0f}+"
          f"{line.get('answer_ms', 0):.0f}+{line['store_ms']:.0f}+"
          f"{line['record_ms']:.0f}) | {size / 1e6:.2f} |")
    if index > 0:
        for key, value in (("total", total), ("transport", transport), ("queued", line["queued_ms"]),
                           ("engine", line["engine_ms"]), ("persistence", persistence)):
            sums[key] += value
mean = {k: v / generations for k, v in sums.items()}
print(f"| **mean of generations 2..{generations + 1}** | | **{mean['total']:.1f}** | {mean['transport']:.1f} | "
      f"{mean['queued']:.1f} | {mean['engine']:.1f} | {mean['persistence']:.1f} | |")
print(f"\nservice time / engine time: **{mean['total'] / mean['engine']:.2f}x**; "
      f"espd peak RSS: **{peak_kib / 1024:.0f} MiB**; client decoding per generation: "
      f"**{sum(decode_ms[1:]) / generations:.1f} ms**\n")
encoding = {"NNWeightsBinary": "binary", "NNWeights": "json", "KerasNN": "h5"}[representation]
print(f"RESULT case={population}x{weights}x{objectives} encoding={encoding} mean_ms={mean['total']:.1f} "
      f"peak_rss_mib={peak_kib / 1024:.0f} persistence_ms={mean['persistence']:.1f} "
      f"client_decode_ms={sum(decode_ms[1:]) / generations:.1f} message_mb={rows[-1][2] / 1e6:.2f}{rest}")
