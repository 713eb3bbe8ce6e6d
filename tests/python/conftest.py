"""A real espd for the esp_client tests (tests/support/espd.py), with two users."""
import copy
import os

import pytest

import esp_client
from espd import Espd

PASSWORD = "password-123"
WRITER = "scientist@example.com"
READER = "reader@example.com"


def network(inputs=(("context", 3),), hidden=((8, "tanh"),), outputs=(("action", 2, "sigmoid"),)):
    """The ESP SDK's network parameters."""
    return {"inputs": [{"name": name, "size": size, "values": ["float"]} for name, size in inputs],
            "hidden_layers": [{"layer_name": f"hidden_{i + 1}", "layer_type": "Dense",
                               "layer_params": {"units": units, "activation": activation, "use_bias": True}}
                              for i, (units, activation) in enumerate(hidden)],
            "outputs": [{"name": name, "size": size, "activation": activation, "use_bias": True}
                        for name, size, activation in outputs]}


def experiment_params(population_size=16, generations=5, fitness=None, **evolution):
    params = {"network": network(),
              "evolution": {"nb_generations": generations, "population_size": population_size, "nb_elites": 2,
                            "parent_selection": "tournament", "remove_population_pct": 0.5,
                            "mutation_type": "gaussian_noise_fixed", "mutation_probability": 0.2,
                            "mutation_factor": 0.2, "initialization_distribution": "orthogonal",
                            "initialization_range": 1,
                            "fitness": fitness or [{"metric_name": "score", "maximize": True}], "seed": 7}}
    params["evolution"].update(evolution)
    return copy.deepcopy(params)


@pytest.fixture(scope="session")
def espd():
    server = Espd(defer_start=True).__enter__()
    for email, scopes in ((WRITER, "esp:read esp:write"), (READER, "esp:read")):
        added = server.admin("users", "add", email, "--scopes", scopes, password=PASSWORD + "\n")
        assert added.returncode == 0, added.stderr
    server.start()
    yield server
    server.__exit__(None, None, None)


@pytest.fixture(scope="session")
def url(espd):
    return espd.url("")


@pytest.fixture
def client(url):
    return esp_client.Client(url, email=WRITER, password=PASSWORD)


@pytest.fixture
def artifacts():
    """Where a test keeps what a person may want to look at (ctest's build folder)."""
    folder = os.path.join(os.environ.get("ESP_TEST_ARTIFACTS", "/tmp/esp-test-artifacts"), "python")
    os.makedirs(folder, exist_ok=True)
    return folder
