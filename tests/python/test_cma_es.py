"""CMA-ES through the service (evolution.algorithm): its state is stored with each
checkpoint, so an espd restarted between generations (nothing in memory) breeds the
same bits as one that ran on; a stalled run restarts with twice the population
(cma_restarts), and a replica continues it; it minimises the sphere; settings are refused
with their JSON path; candidates keep the contract's identity."""
import numpy as np
import pytest

import esp_client
from conftest import PASSWORD, WRITER
from espd import Espd


def params(algorithm="cma_es", seed=11):
    return {"network": {"inputs": [{"name": "c", "size": 4}], "hidden_layers": [],
                        "outputs": [{"name": "a", "size": 2}]},
            "evolution": {"algorithm": algorithm, "seed": seed, "initialization_range": 1,
                          "fitness": [{"metric_name": "f", "maximize": False}]}}


def sphere(population):
    return {c.id: {"f": float(np.square(c.genome.astype(np.float64)).sum())} for c in population}


@pytest.fixture
def restartable():
    server = Espd(defer_start=True).__enter__()
    added = server.admin("users", "add", WRITER, "--scopes", "esp:read esp:write", password=PASSWORD + "\n")
    assert added.returncode == 0, added.stderr
    server.start()
    yield server
    server.__exit__(None, None, None)


def test_a_restart_between_generations_breeds_the_same_bits(restartable):
    client = esp_client.Client(restartable.url(""), email=WRITER, password=PASSWORD)
    ran_on = client.experiment("ran-on", params())
    for _ in range(4):
        ran_on.tell(sphere(ran_on.ask()))
    expected = [c.genome.tobytes() for c in ran_on.ask()]

    interrupted = client.experiment("interrupted", params())
    for _ in range(2):
        interrupted.tell(sphere(interrupted.ask()))
    restartable.stop()
    restartable.start()  # the population cache is gone: the state comes from storage
    client = esp_client.Client(restartable.url(""), email=WRITER, password=PASSWORD)
    interrupted = client.experiment("interrupted", params())
    for _ in range(2):
        interrupted.tell(sphere(interrupted.ask()))
    population = interrupted.ask()
    assert population.generation == 5 and len(population) == 4 + int(3 * np.log(10))
    assert [c.genome.tobytes() for c in population] == expected


def test_a_stalled_run_restarts_with_twice_the_population_and_survives_a_restart(restartable):
    """A flat fitness (every candidate scores 1) never improves: with n = 10 and lambda = 10
    the run stalls after 10 + ceil(30 * 10 / 10) = 40 more generations, and the 42nd has 20
    candidates. An espd restarted after that continues the new run, bit for bit."""
    flat = params()
    flat["evolution"]["cma_restarts"] = 1
    client = esp_client.Client(restartable.url(""), email=WRITER, password=PASSWORD)
    sizes, strategies = [], []

    def breed(exp, generations):
        for _ in range(generations):
            population = exp.ask()
            sizes.append(len(population))
            strategies.append((population.evaluation_stats or {}).get("strategy"))
            exp.tell({c.id: {"f": 1.0} for c in population})

    ran_on = client.experiment("flat-ran-on", flat)
    breed(ran_on, 44)
    assert sizes[:41] == [10] * 41 and sizes[41:] == [20] * 3, sizes
    # evaluation_stats say what the strategy did with the generation before each.
    assert strategies[0] is None  # the seed answer carries no evaluation_stats
    assert strategies[40]["restarts"] == 0 and "restarted" not in strategies[40]
    assert strategies[41]["algorithm"] == "cma_es" and strategies[41]["restarts"] == 1
    assert "not improved" in strategies[41]["restarted"]
    assert strategies[41]["step_size"] == 1.0  # the start's, initialization_range
    expected = [c.genome.tobytes() for c in ran_on.ask()]

    interrupted = client.experiment("flat-interrupted", flat)
    breed(interrupted, 42)
    restartable.stop()
    restartable.start()
    client = esp_client.Client(restartable.url(""), email=WRITER, password=PASSWORD)
    interrupted = client.experiment("flat-interrupted", flat)
    breed(interrupted, 2)
    population = interrupted.ask()
    assert population.generation == 45 and len(population) == 20
    assert [c.genome.tobytes() for c in population] == expected


@pytest.mark.parametrize("algorithm", ["cma_es", "sep_cma_es", "active_cma_es"])
def test_cma_es_minimises_the_sphere(client, algorithm):
    exp = client.experiment(f"sphere-{algorithm}", params(algorithm))
    bests = []
    for _ in range(60):
        population = exp.ask()
        metrics = sphere(population)
        bests.append(min(m["f"] for m in metrics.values()))
        exp.tell(metrics)
    assert bests[-1] < bests[0] * 1e-3, bests
    candidate = exp.ask()[0]
    assert candidate.identity["origin"] == "(none)" and candidate.identity["birth_generation"] == 61
    assert candidate.identity["ancestor_ids"] == []


def test_cma_es_settings_are_refused_with_their_paths(client):
    two = params()
    two["evolution"]["fitness"].append({"metric_name": "g", "maximize": True})
    with pytest.raises(esp_client.EspError) as raised:
        client.experiment("two-objectives", two)
    assert "evolution.algorithm" in raised.value.paths
    bad = params()
    bad["evolution"]["cma_sigma"] = -1
    with pytest.raises(esp_client.EspError) as raised:
        client.experiment("bad-sigma", bad)
    assert "evolution.cma_sigma" in raised.value.paths
    huge = params()
    huge["evolution"]["cma_restarts"] = 20  # 10 x 2^20 candidates
    with pytest.raises(esp_client.EspError) as raised:
        client.experiment("too-many-restarts", huge)
    assert "evolution.cma_restarts" in raised.value.paths


def test_switching_strategy_mid_experiment_is_refused_and_loses_nothing(client):
    """CMA-ES continues only the strategy it stored; a GA checkpoint (or the other
    variant's) has none, so the request is refused with the reason before any job."""
    exp = client.experiment("switch", params("ga"))
    exp.tell(sphere(exp.ask()))
    bred = exp.ask()
    for algorithm in ("cma_es", "sep_cma_es", "active_cma_es"):
        switched = client.experiment("switch", params(algorithm))
        with pytest.raises(esp_client.EspError) as raised:
            switched.tell(sphere(switched.ask()))
        assert raised.value.status == 409
        assert f"was bred by ga, and {algorithm} continues only its own strategy" in raised.value.detail
    listed = [c["id"] for c in client.call("GET", "/v1/experiments/switch/checkpoints")["checkpoints"]]
    assert len(listed) == 2 and bred.checkpoint_id in listed  # the seed and generation 2, no more
    again = client.experiment("switch", params("ga"))
    again.tell(sphere(again.ask()))
    assert again.ask().generation == 3

    cma = client.experiment("variant", params("cma_es"))
    cma.tell(sphere(cma.ask()))
    sep = client.experiment("variant", params("sep_cma_es"))
    with pytest.raises(esp_client.EspError) as raised:
        sep.tell(sphere(sep.ask()))
    assert "was bred by cma_es" in raised.value.detail
