"""Candidates decoded as the ESP SDK decodes them, with numpy (and h5py) alone: the
NNWeights JSON's model_config walked layer by layer, its model_weights set per layer;
a KerasNN interpretation opened as the .h5 file it is."""
import io
import json

import numpy as np

ACTIVATIONS = {
    "linear": lambda x: x,
    "relu": lambda x: np.maximum(x, 0),
    "tanh": np.tanh,
    "sigmoid": lambda x: 1 / (1 + np.exp(-x)),
    "softmax": lambda x: np.exp(x - x.max(axis=-1, keepdims=True))
    / np.exp(x - x.max(axis=-1, keepdims=True)).sum(axis=-1, keepdims=True),
}


def nnweights(interpretation):
    """(model_config, {layer: [kernel, bias?]}) from NNWeights bytes."""
    document = json.loads(interpretation.decode("utf-8"))
    weights = {name: [np.asarray(w, dtype=np.float32) for w in values]
               for name, values in document["model_weights"].items()}
    return document["model_config"], weights


def _tensor_names(argument):
    """The layer names a node argument refers to (one KerasTensor or a list of them)."""
    if isinstance(argument, list):
        return [name for item in argument for name in _tensor_names(item)]
    assert argument["class_name"] == "__keras_tensor__", argument
    return [argument["config"]["keras_history"][0]]


def forward(model_config, weights, inputs):
    """Runs the functional model the config describes; `inputs` in input_layers order."""
    values = {}
    feeds = {entry[0]: x for entry, x in zip(model_config["input_layers"], inputs)}
    for layer in model_config["layers"]:
        kind, name, config = layer["class_name"], layer["name"], layer["config"]
        if kind == "InputLayer":
            values[name] = np.asarray(feeds[name], dtype=np.float32)
            continue
        (node,) = layer["inbound_nodes"]
        sources = [values[source] for source in _tensor_names(node["args"])]
        if kind == "Dense":
            kernel, *bias = weights[name]
            assert kernel.shape == (sources[0].shape[-1], config["units"]), (name, kernel.shape)
            out = sources[0] @ kernel + (bias[0] if config["use_bias"] else 0)
            values[name] = ACTIVATIONS[config["activation"]](out)
        elif kind == "Add":
            values[name] = sum(sources)
        elif kind == "Activation":
            values[name] = ACTIVATIONS[config["activation"]](sources[0])
        elif kind == "Concatenate":
            values[name] = np.concatenate(sources, axis=-1)
        else:
            raise AssertionError(f"unexpected layer {kind}")
    return [values[entry[0]] for entry in model_config["output_layers"]]


def split_context(model_config, context):
    """A concatenated context vector as one array per input layer."""
    parts, at = [], 0
    for layer in model_config["layers"]:
        if layer["class_name"] == "InputLayer":
            width = layer["config"]["batch_shape"][1]
            parts.append(np.asarray(context[at:at + width], dtype=np.float32)[None, :])
            at += width
    assert at == len(context)
    return parts


def keras_h5(interpretation):
    """(model_config, {layer: [kernel, bias?]}, file attributes) from KerasNN bytes."""
    import h5py

    with h5py.File(io.BytesIO(interpretation), "r") as f:
        config = json.loads(f.attrs["model_config"])
        attributes = {key: f.attrs[key] for key in f.attrs}
        group = f["model_weights"]
        weights = {}
        for name in (n.decode() for n in group.attrs["layer_names"]):
            names = [n.decode() for n in group[name].attrs["weight_names"]]
            if names:
                weights[name] = [np.asarray(group[name][n]) for n in names]
        attributes["layer_names"] = [n.decode() for n in group.attrs["layer_names"]]
    return config, weights, attributes


def flat_weights(interpretation):
    """(every weight in model order, number of Dense layers) of NNWeights bytes."""
    _, weights = nnweights(interpretation)
    return [float(v) for arrays in weights.values() for array in arrays for v in array.ravel()], len(weights)
