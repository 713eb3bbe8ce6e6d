"""An ESP SDK-shaped client against the real espd: stubs generated from a proto written
from the SDK's field numbers, candidates decoded with numpy exactly as the SDK's code
decodes them (model_config, then each layer's weights), the SDK's training loop with
reevaluate_elites false, resuming from a checkpoint with GetPopulation, on a task with a
known optimum."""
import atexit
import json
import os
import shutil
import sys
import tempfile
import unittest

import grpc
import numpy as np
from grpc_tools import protoc

import sdk_codec
from espd import Espd
from httpjson import call

_stubs = tempfile.mkdtemp(prefix="esp-sdk-stubs-")
atexit.register(shutil.rmtree, _stubs, ignore_errors=True)
_here = os.path.dirname(os.path.abspath(__file__))
assert protoc.main(["protoc", f"-I{_here}", f"--python_out={_stubs}", f"--grpc_python_out={_stubs}",
                    os.path.join(_here, "esp_sdk.proto")]) == 0
sys.path.insert(0, _stubs)
import esp_sdk_pb2 as sdk  # noqa: E402
import esp_sdk_pb2_grpc as sdk_grpc  # noqa: E402

# Two inputs (one categorical), two outputs: pick the larger of x's two values, and
# prescribe 0.5 + 0.4 * x0 on workdays, 0.5 - 0.4 * x0 at weekends. The best score is 1.
PARAMS = {
    "network": {
        "inputs": [{"name": "x", "size": 2, "values": ["float"]},
                   {"name": "day", "size": 2, "values": ["workday", "weekend"]}],
        "hidden_layers": [{"layer_name": "hidden_1", "layer_type": "Dense",
                           "layer_params": {"units": 8, "activation": "tanh", "use_bias": True}}],
        "outputs": [{"name": "larger", "size": 2, "activation": "softmax", "use_bias": True,
                     "values": ["first", "second"]},
                    {"name": "level", "size": 1, "activation": "sigmoid", "use_bias": True,
                     "values": ["float"]}]},
    "evolution": {"nb_generations": 10, "population_size": 30, "nb_elites": 4,
                  "parent_selection": "tournament_distinct", "remove_population_pct": 0.6,
                  "crossover": ["uniform_weight", "2_points"], "mutation_type": "gaussian_noise_fixed",
                  "mutation_probability": 0.2, "mutation_factor": 0.3,
                  "initialization_distribution": "normal",
                  "fitness": [{"metric_name": "score", "maximize": True}]},
    "LEAF": {"representation": "NNWeights", "reevaluate_elites": False, "version": "3.0.0",
             "experiment_id": "sdk-loop"},
}

_rng = np.random.default_rng(3)
X = _rng.uniform(-1, 1, size=(64, 2)).astype(np.float32)
DAY = np.eye(2, dtype=np.float32)[_rng.integers(0, 2, size=64)]
WANT_LARGER = (X[:, 1] > X[:, 0]).astype(int)
WANT_LEVEL = 0.5 + 0.4 * X[:, 0] * np.where(DAY[:, 0] == 1, 1, -1)


class SdkClient:
    """What the SDK's ESPService and training loop do, as far as the server sees."""

    def __init__(self, port, token):
        options = [("grpc.max_send_message_length", 50 * 1024 * 1024),
                   ("grpc.max_receive_message_length", 50 * 1024 * 1024)]
        self.channel = grpc.insecure_channel(f"127.0.0.1:{port}", options=options)
        self.stub = sdk_grpc.PopulationServiceStub(self.channel)
        self.metadata = [("authorization", f"Bearer {token}"), ("service_select", "blue")]
        self.evaluations = 0

    def next_population(self, params, evaluated=None):
        request = sdk.PopulationRequest(version=params["LEAF"]["version"],
                                        experiment_id=params["LEAF"]["experiment_id"],
                                        config=json.dumps(params).encode())
        if evaluated is not None:
            request.evaluated_population_response.CopyFrom(evaluated)
        return self.stub.NextPopulation(request, metadata=self.metadata, timeout=120)

    def get_population(self, experiment_id, checkpoint_id):
        return self.stub.GetPopulation(sdk.ExistingPopulationRequest(
            version="3.0.0", experiment_id=experiment_id, checkpoint_id=checkpoint_id),
            metadata=self.metadata, timeout=60)

    def score(self, candidate):
        config, weights = sdk_codec.nnweights(candidate.interpretation)
        larger, level = sdk_codec.forward(config, weights, [X, DAY])
        accuracy = float((larger.argmax(axis=1) == WANT_LARGER).mean())
        error = float(np.abs(level[:, 0] - WANT_LEVEL).mean())
        return accuracy - error

    def evaluate(self, response, reevaluate_elites):
        """The population back with metrics, interpretations included, stats cleared."""
        evaluated = sdk.PopulationResponse()
        evaluated.CopyFrom(response)
        evaluated.evaluation_stats = b""
        for candidate in evaluated.population:
            if candidate.metrics and not reevaluate_elites:
                continue  # an elite keeps the metrics it came back with
            candidate.metrics = json.dumps({"score": self.score(candidate)}).encode()
            self.evaluations += 1
        return evaluated


class SdkClientTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.espd = Espd(defer_start=True).__enter__()
        added = cls.espd.admin("users", "add", "sdk@example.com", "--scopes", "esp:read esp:write",
                               password="password-123\n")
        assert added.returncode == 0, added.stderr
        cls.espd.start()
        token = call(cls.espd.url("/auth"), "POST",
                     json_body={"email": "sdk@example.com", "password": "password-123"}).json()["token"]
        cls.client = SdkClient(cls.espd.grpc_port, token)

    @classmethod
    def tearDownClass(cls):
        cls.client.channel.close()
        cls.espd.__exit__(None, None, None)

    def best(self, evaluated):
        return max(json.loads(c.metrics)["score"] for c in evaluated.population)

    def test_ten_generations_improve_and_resume_from_a_checkpoint(self):
        client = self.client
        size, elites = PARAMS["evolution"]["population_size"], PARAMS["evolution"]["nb_elites"]
        response = client.next_population(PARAMS)
        self.assertEqual(response.generation_count, 1)
        self.assertEqual(response.evaluation_stats, b"")
        checkpoints, bests = {}, []
        for generation in range(1, 11):
            before = client.evaluations
            evaluated = client.evaluate(response, reevaluate_elites=False)
            # Elites arrive with their metrics, so only the others are evaluated again.
            self.assertEqual(client.evaluations - before, size if generation == 1 else size - elites)
            bests.append(self.best(evaluated))
            checkpoints[generation] = (response.checkpoint_id, evaluated)
            response = client.next_population(PARAMS, evaluated)
            self.assertEqual(response.generation_count, generation + 1)
            # What the SDK's loop reads without checking.
            server_metrics = json.loads(response.evaluation_stats)["server_metrics"]
            self.assertEqual(set(server_metrics), {c.id for c in evaluated.population})
            self.assertEqual(sum(entry["is_elite"] for entry in server_metrics.values()), elites)
            for candidate in response.population:
                identity = json.loads(candidate.identity)
                self.assertEqual(identity["unique_id"], candidate.id)
                self.assertEqual(identity["experiment_version"], "sdk-loop")
                self.assertRegex(identity["origin"], r"^(\d+_\d+~(CUW|C2PW)~\d+_\d+#MGNF)$|^\(none\)$")
        # Elitism never loses the best, and evolution finds better prescriptors.
        self.assertEqual(bests, sorted(bests))
        self.assertGreater(bests[-1], bests[0] + 0.1, bests)
        self.assertGreater(bests[-1], 0.6, bests)
        print("best score by generation:", [round(b, 3) for b in bests], file=sys.stderr)

        # Resume at generation 5 as a new SDK process would: the same population back,
        # and the same next generation as before for the same evaluation.
        checkpoint_id, evaluated = checkpoints[5]
        again = client.get_population("sdk-loop", checkpoint_id)
        self.assertEqual(again.generation_count, 5)
        self.assertEqual([c.interpretation for c in again.population],
                         [c.interpretation for c in evaluated.population])
        resumed = client.next_population(PARAMS, client.evaluate(again, reevaluate_elites=False))
        self.assertEqual(resumed.generation_count, 6)
        self.assertEqual(resumed.checkpoint_id, checkpoints[6][0])

    def test_without_a_representation_candidates_are_keras_h5_files(self):
        params = json.loads(json.dumps(PARAMS))
        del params["LEAF"]["representation"]
        params["LEAF"]["experiment_id"] = "sdk-h5"
        response = self.client.next_population(params)
        config, weights, _ = sdk_codec.keras_h5(response.population[0].interpretation)
        self.assertEqual(config["class_name"], "Functional")
        self.assertEqual(sorted(weights), sorted(["x", "day", "larger", "level"]))
        larger, _ = sdk_codec.forward(config["config"], weights, [X, DAY])
        self.assertEqual(larger.shape, (64, 2))

    def test_rule_based_is_refused_naming_what_is_supported(self):
        params = json.loads(json.dumps(PARAMS))
        params["LEAF"]["representation"] = "RuleBased"
        with self.assertRaises(grpc.RpcError) as raised:
            self.client.next_population(params)
        self.assertEqual(raised.exception.code(), grpc.StatusCode.INVALID_ARGUMENT)
        self.assertIn("NNWeights, KerasNN", raised.exception.details())


if __name__ == "__main__":
    unittest.main()
