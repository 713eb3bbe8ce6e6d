"""The SDK's candidate formats, decoded as the SDK's own code does: NNWeights JSON with
numpy from the JSON alone, KerasNN with h5py from the bytes alone. For every network the
parameters allow, the actions computed that way equal the engine's own forward pass."""
import base64
import copy
import json
import os
import subprocess
import tempfile
import unittest

import numpy as np

import sdk_codec

FORWARD_CASES = os.environ["ESP_FORWARD_CASES"]
FIXTURES = os.path.join(os.path.dirname(__file__), "..", "fixtures")
SDK = json.load(open(os.path.join(FIXTURES, "experiment-sdk.json")))


def network(inputs, hidden, outputs):
    return {"network": {"inputs": inputs, "hidden_layers": hidden, "outputs": outputs}}


def dense(name, units, activation="tanh", use_bias=True):
    return {"layer_name": name, "layer_type": "Dense",
            "layer_params": {"units": units, "activation": activation, "use_bias": use_bias}}


ONE_INPUT = [{"name": "x", "size": 3, "values": ["float"]}]
TWO_INPUTS = [{"name": "sensors", "size": 3, "values": ["float"]},
              {"name": "day", "size": 2, "values": ["workday", "weekend"]}]
HEADS = [{"name": "choice", "size": 3, "activation": "softmax", "values": ["a", "b", "c"]},
         {"name": "amount", "size": 1, "activation": "sigmoid", "use_bias": False}]

NETWORKS = {
    "one input, one hidden layer": network(ONE_INPUT, [dense("h", 5)], HEADS[:1]),
    "several inputs, categorical, two heads": network(TWO_INPUTS, [dense("h", 6, "relu")], HEADS),
    "deep, without bias": network(TWO_INPUTS, [dense("h1", 4, "tanh", False), dense("h2", 3, "relu", False),
                                               dense("h3", 5, "sigmoid")], HEADS),
    "no hidden layer, one input": network(ONE_INPUT, [], HEADS),
    "no hidden layer, several inputs": network(TWO_INPUTS, [], HEADS),
    "first hidden layer of 0 units then more": network(TWO_INPUTS, [dense("h1", 0), dense("h2", 4)], HEADS),
    "the old flat form": {"network": {"inputs": TWO_INPUTS, "nb_hidden_units": 4,
                                      "activation_function": "relu", "outputs": HEADS[:1]}},
    "the SDK user's file": {"network": SDK["network"]},
}


def cases(params, representation, candidates=3, contexts=4):
    params = copy.deepcopy(params)
    params.setdefault("LEAF", {})["representation"] = representation
    params.setdefault("evolution", {})["initialization_distribution"] = "normal"
    with tempfile.NamedTemporaryFile("w", suffix=".json") as f:
        json.dump(params, f)
        f.flush()
        answer = subprocess.run([FORWARD_CASES, f.name, "7", str(candidates), str(contexts)],
                                capture_output=True, text=True, timeout=60)
    assert answer.returncode == 0, answer.stderr
    for case in json.loads(answer.stdout)["candidates"]:
        yield base64.b64decode(case["interpretation_base64"]), case["contexts"], case["actions"]


class NNWeightsTest(unittest.TestCase):
    def test_every_network_decodes_to_the_engines_actions(self):
        for label, params in NETWORKS.items():
            with self.subTest(label):
                for interpretation, contexts, actions in cases(params, "NNWeights"):
                    config, weights = sdk_codec.nnweights(interpretation)
                    for context, expected in zip(contexts, actions):
                        outputs = sdk_codec.forward(config, weights, sdk_codec.split_context(config, context))
                        got = np.concatenate([o[0] for o in outputs])
                        np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5)

    def test_layers_are_named_and_shaped_as_the_original_service_builds_them(self):
        interpretation, _, _ = next(cases(NETWORKS["several inputs, categorical, two heads"], "NNWeights"))
        config, weights = sdk_codec.nnweights(interpretation)
        names = [layer["name"] for layer in config["layers"]]
        self.assertEqual(names, ["sensors_input", "day_input", "sensors", "day", "add",
                                 "first_hidden_activation", "choice", "amount"])
        self.assertEqual(list(weights), ["sensors", "day", "choice", "amount"])  # in model order
        self.assertEqual([w.shape for w in weights["sensors"]], [(3, 6), (6,)])
        self.assertEqual([w.shape for w in weights["day"]], [(2, 6), (6,)])
        self.assertEqual([w.shape for w in weights["amount"]], [(6, 1)])  # use_bias false: [kernel]
        by_name = {layer["name"]: layer for layer in config["layers"]}
        self.assertEqual(by_name["first_hidden_activation"]["config"]["activation"], "relu")
        self.assertEqual(by_name["sensors"]["config"]["activation"], "linear")
        self.assertEqual(by_name["sensors_input"]["config"]["batch_shape"], [None, 3])
        self.assertEqual(config["input_layers"], [["sensors_input", 0, 0], ["day_input", 0, 0]])
        self.assertEqual(config["output_layers"], [["choice", 0, 0], ["amount", 0, 0]])
        for layer in config["layers"]:  # what Keras 3's deserializer needs of each
            self.assertEqual(layer["module"], "keras.layers")
            self.assertIn("registered_name", layer)
        # 0 units first: the inputs joined as the original does.
        interpretation, _, _ = next(cases(NETWORKS["no hidden layer, several inputs"], "NNWeights"))
        config, _ = sdk_codec.nnweights(interpretation)
        self.assertIn("concatenate_1", [layer["name"] for layer in config["layers"]])

    def test_weights_are_the_shortest_float32_text(self):
        interpretation, _, _ = next(cases(NETWORKS["one input, one hidden layer"], "NNWeights"))
        _, weights = sdk_codec.nnweights(interpretation)
        text = json.loads(interpretation)["model_weights"]["x"][0][0][0]
        self.assertEqual(np.float32(text), weights["x"][0][0][0])
        self.assertLessEqual(len(repr(text)), 16)


class KerasNNTest(unittest.TestCase):
    def test_the_h5_bytes_hold_the_model_config_and_the_same_weights(self):
        for label, params in NETWORKS.items():
            with self.subTest(label):
                h5 = list(cases(params, "KerasNN"))
                as_json = list(cases(params, "NNWeights"))
                for (h5_bytes, contexts, actions), (json_bytes, _, _) in zip(h5, as_json):
                    self.assertEqual(h5_bytes[:8], b"\x89HDF\r\n\x1a\n")
                    config, weights, attributes = sdk_codec.keras_h5(h5_bytes)
                    json_config, json_weights = sdk_codec.nnweights(json_bytes)
                    self.assertEqual(config["class_name"], "Functional")
                    self.assertEqual([layer["name"] for layer in config["config"]["layers"]],
                                     [layer["name"] for layer in json_config["layers"]])
                    self.assertEqual(attributes["layer_names"], [layer["name"] for layer in json_config["layers"]])
                    self.assertTrue(attributes["keras_version"].startswith("3."))
                    self.assertEqual(sorted(weights), sorted(json_weights))
                    for name in weights:
                        for got, want in zip(weights[name], json_weights[name]):
                            np.testing.assert_array_equal(got, want)
                    for context, expected in zip(contexts, actions):
                        outputs = sdk_codec.forward(config["config"], weights,
                                                    sdk_codec.split_context(config["config"], context))
                        np.testing.assert_allclose(np.concatenate([o[0] for o in outputs]), expected,
                                                   rtol=1e-4, atol=1e-5)


if __name__ == "__main__":
    unittest.main()
