"""esp_client's door against a real espd: ask/tell, the weights and forward pass,
opening and resuming experiments, and errors as exceptions with their JSON paths."""
import base64
import json
import os
import subprocess

import numpy as np
import pytest

import esp_client
from conftest import PASSWORD, READER, WRITER, experiment_params, network


def score(candidate):
    """A metric that depends on the weights, so the generations differ."""
    return float(np.tanh(candidate.genome[:5]).sum())


def test_ask_tell_loop_gives_weights_predictions_and_the_next_generation(client):
    params = experiment_params()
    params["network"] = network(inputs=(("context", 3), ("history", 2)), hidden=((6, "relu"), (4, "tanh")),
                                outputs=(("action", 2, "sigmoid"), ("choice", 3, "softmax")))
    exp = client.experiment("loop", params)
    assert (exp.generation, exp.checkpoint_id) == (0, None)
    pop = exp.ask()
    assert (len(pop), pop.generation, exp.generation) == (16, 1, 1)
    assert exp.checkpoint_id == pop.checkpoint_id and pop.checkpoint_id.startswith("loop/1/")
    c = pop[0]
    assert c.id == "1_1" and c.identity["birth_generation"] == 1
    shapes = {name: [w.shape for w in values] for name, values in c.weights.items()}
    assert shapes == {"context": [(3, 6), (6,)], "history": [(2, 6), (6,)], "hidden_2": [(6, 4), (4,)],
                      "action": [(4, 2), (2,)], "choice": [(4, 3), (3,)]}
    assert all(w.dtype == np.float32 for values in c.weights.values() for w in values)
    out = c.predict({"context": np.random.rand(7, 3), "history": np.random.rand(7, 2)})
    assert {name: v.shape for name, v in out.items()} == {"action": (7, 2), "choice": (7, 3)}
    np.testing.assert_allclose(out["choice"].sum(axis=1), 1, rtol=1e-5)
    assert ((out["action"] > 0) & (out["action"] < 1)).all()

    metrics = {c.id: {"score": score(c)} for c in pop}
    exp.tell(metrics)
    assert exp.generation == 2 and exp.checkpoint_id.startswith("loop/2/")
    best = exp.best()
    assert best.metrics["score"] == pytest.approx(max(m["score"] for m in metrics.values()))
    assert best.id == max(metrics, key=lambda i: metrics[i]["score"])
    nxt = exp.ask()
    assert nxt.generation == 2 and len(nxt) == 16
    # Elites come back with the metrics they were told, as the original service keeps them.
    elites = [c for c in nxt if c.metrics]
    assert [c.id for c in elites] == sorted(metrics, key=lambda i: -metrics[i]["score"])[:2]
    assert nxt.evaluation_stats["server_metrics"][best.id]["score"] == pytest.approx(best.metrics["score"])


def engine_cases(tmp_path, net, candidates=3, contexts=5):
    """Candidates and the engine's own forward pass on random contexts (forward_cases)."""
    params = experiment_params()
    params["network"] = net
    params["LEAF"] = {"representation": "NNWeightsBinary"}
    path = tmp_path / "params.json"
    path.write_text(json.dumps(params))
    done = subprocess.run([os.environ["ESP_FORWARD_CASES"], str(path), "11", str(candidates), str(contexts)],
                          capture_output=True, text=True, check=True)
    return json.loads(done.stdout)["candidates"]


NETWORKS = {
    "one input, every hidden activation": network(hidden=((5, "tanh"), (4, "relu"), (3, "sigmoid"), (3, "linear"))),
    "several inputs and outputs": network(inputs=(("a", 2), ("b", 3), ("c", 1)), hidden=((6, "relu"),),
                                          outputs=(("x", 2, "softmax"), ("y", 1, "tanh"), ("z", 3, "linear"))),
    "0-unit first layer": network(inputs=(("a", 2), ("b", 3)), hidden=((0, "tanh"), (4, "tanh")),
                                  outputs=(("x", 3, "softmax"),)),
    "no hidden layer": network(inputs=(("a", 2), ("b", 2)), hidden=(), outputs=(("x", 2, "sigmoid"),)),
}


@pytest.mark.parametrize("name", NETWORKS)
def test_predict_computes_what_the_engine_computes(tmp_path, name):
    net = NETWORKS[name]
    model = esp_client.Network(net)
    sizes = [size for _, size in model.inputs]
    for case in engine_cases(tmp_path, net):
        candidate = esp_client.Candidate("1_1", base64.b64decode(case["interpretation_base64"]), model)
        contexts = np.array(case["contexts"], dtype=np.float32)
        split = np.split(contexts, np.cumsum(sizes)[:-1], axis=1)
        out = candidate.predict({input_name: x for (input_name, _), x in zip(model.inputs, split)})
        actions = np.concatenate([out[output] for output, _ in model.outputs], axis=1)
        np.testing.assert_allclose(actions, np.array(case["actions"]), rtol=2e-5, atol=2e-6)
        # One row alone (a 1-D array per input) means the same.
        one = candidate.predict({input_name: x[0] for (input_name, _), x in zip(model.inputs, split)})
        np.testing.assert_allclose(np.concatenate([one[o] for o, _ in model.outputs], axis=1)[0], actions[0],
                                   rtol=1e-6)


def test_predict_refuses_inputs_of_the_wrong_shape(client):
    pop = client.experiment("shapes", experiment_params()).ask()
    with pytest.raises(ValueError, match=r"shape \(n, 3\)"):
        pop[0].predict({"context": np.zeros((4, 2))})
    with pytest.raises(KeyError, match="nope"):
        pop[0].predict({"nope": np.zeros((4, 3))})
    assert pop[0].predict(np.zeros((4, 3)))["action"].shape == (4, 2)


def test_opening_an_experiment_again_keeps_it_and_new_evolution_settings_apply_next(client, url):
    params = experiment_params()
    first = client.experiment("reopen", params)
    first.tell({c.id: {"score": score(c)} for c in first.ask()})
    again = esp_client.Client(url, email=WRITER, password=PASSWORD).experiment("reopen", params)
    assert (again.generation, again.checkpoint_id) == (2, first.checkpoint_id)
    assert [c.id for c in again.ask()] == [c.id for c in first.ask()]
    opened = client.experiment("reopen")  # no params: it must exist
    assert opened.checkpoint_id == first.checkpoint_id
    # The same network with other evolution settings: they apply to the next generation.
    bigger = experiment_params(population_size=24)
    grown = client.experiment("reopen", bigger)
    grown.tell({c.id: {"score": score(c)} for c in grown.ask()})
    assert len(grown.ask()) == 24
    other = experiment_params()
    other["network"] = network(hidden=((9, "tanh"),))
    with pytest.raises(esp_client.ConflictError, match="another network"):
        client.experiment("reopen", other)


def test_resume_continues_from_a_checkpoint_and_a_retold_generation_is_the_same(client):
    exp = client.experiment("resume", experiment_params())
    told = {}
    for _ in range(3):
        pop = exp.ask()
        told[pop.checkpoint_id] = {c.id: {"score": score(c)} for c in pop}
        exp.tell(told[pop.checkpoint_id])
    second = list(told)[1]
    newest = exp.checkpoint_id
    ids = [c.id for c in exp.resume(second)]
    assert exp.generation == 2 and ids == list(told[second])
    assert [c.interpretation for c in exp.ask()] == [c.interpretation for c in exp.resume(second)]
    exp.tell(told[second])  # the same request: espd answers with the operation it ran before
    assert exp.generation == 3
    third = [c for c in exp.ask()]
    assert list(told)[2] == exp.checkpoint_id
    assert [c.id for c in third] == list(told[list(told)[2]])
    assert newest != exp.checkpoint_id  # one generation behind the newest, as resumed
    assert [c["generation"] for c in exp.checkpoints()] == [1, 2, 3, 4]


def test_errors_are_exceptions_with_the_problem_and_its_json_paths(client, url):
    bad = experiment_params(population_size=0)
    bad["evolution"]["mutation_probability"] = 3
    with pytest.raises(esp_client.EspError) as raised:
        client.experiment("bad", bad)
    assert raised.value.status == 400
    assert {"evolution.population_size", "evolution.mutation_probability"} <= set(raised.value.paths)
    assert "evolution.population_size" in str(raised.value)
    with pytest.raises(esp_client.NotFoundError):
        client.experiment("never-made")
    exp = client.experiment("tells", experiment_params())
    pop = exp.ask()
    with pytest.raises(ValueError, match="no-such-candidate"):
        exp.tell({"no-such-candidate": {"score": 1.0}})
    assert exp.checkpoint_id == pop.checkpoint_id  # nothing was lost: tell again
    exp.tell({c.id: {"score": score(c)} for c in pop})
    assert exp.generation == 2
    with pytest.raises(esp_client.AuthenticationError) as raised:
        esp_client.Client(url, token="not-a-token").experiment("tells")
    assert raised.value.status == 401
    with pytest.raises(esp_client.AuthenticationError) as raised:
        esp_client.Client(url, email=WRITER, password="wrong password")
    assert raised.value.status == 401
    reader = esp_client.Client(url, email=READER, password=PASSWORD)
    with pytest.raises(esp_client.AuthenticationError) as raised:
        reader.experiment("reader-may-not-write", experiment_params())
    assert raised.value.status == 403
    with pytest.raises(ValueError, match="NNWeightsBinary"):
        keras = experiment_params()
        keras["LEAF"] = {"representation": "KerasNN"}
        client.experiment("keras", keras)


def test_a_candidate_saved_and_loaded_predicts_the_same(client, tmp_path):
    pop = client.experiment("saved", experiment_params()).ask()
    pop[3].save(tmp_path / "c.json")
    loaded = esp_client.Candidate.load(tmp_path / "c.json")
    x = np.random.rand(5, 3)
    assert loaded.id == pop[3].id and loaded.identity == pop[3].identity
    np.testing.assert_array_equal(loaded.predict(x)["action"], pop[3].predict(x)["action"])


def test_protobuf_and_json_downloads_give_the_same_population(url):
    fast = esp_client.Client(url, email=WRITER, password=PASSWORD)
    assert fast.protobuf  # python3-protobuf is installed: the default
    plain = esp_client.Client(url, email=WRITER, password=PASSWORD, protobuf=False)
    exp = fast.experiment("wire", experiment_params())
    exp.tell({c.id: {"score": score(c)} for c in exp.ask()})
    by_protobuf = exp.ask()
    by_json = plain.experiment("wire").ask()
    assert (by_protobuf.checkpoint_id, by_protobuf.generation) == (by_json.checkpoint_id, by_json.generation)
    assert by_protobuf.evaluation_stats == by_json.evaluation_stats and by_json.evaluation_stats
    assert [(c.id, c.interpretation, c.identity, c.metrics) for c in by_protobuf] == \
        [(c.id, c.interpretation, c.identity, c.metrics) for c in by_json]
    assert any(c.metrics for c in by_json)  # the elites
