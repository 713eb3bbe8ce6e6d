"""The prescriptor network of an experiment, decoded from esp's NNWeightsBinary bytes
(docs/interpretation.md) and run with numpy.

The model is the original ESP service's: each input has its own Dense branch with the
first hidden layer's units, the branches are summed and go through the first hidden
layer's activation; then the further hidden layers; every output is a head on the last
of them (softmax per head). With a first hidden layer of 0 units, the inputs are
concatenated instead. The bytes carry each layer's shape, bias and activation; the
layer names come from the experiment's `network` parameters."""
from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Mapping

import numpy as np

MAGIC = b"ESPW"
VERSION = 2
_HEADER = struct.Struct("<4sHHI")
_RECORD = struct.Struct("<IIBBBB")
ACTIVATIONS = ("linear", "relu", "tanh", "sigmoid", "softmax")
HIDDEN, HEAD, BRANCH = 0, 1, 2


@dataclass(frozen=True)
class Layer:
    """One Dense layer: its Keras name, shape, bias and activation. For an input
    branch, `activation` is the one applied to the branches' sum."""
    name: str
    inputs: int
    outputs: int
    use_bias: bool
    activation: str
    role: int


def _sigmoid(x: np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore"):
        return np.float32(1) / (np.float32(1) + np.exp(-x))


def _softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


_FUNCTIONS = {"linear": lambda x: x, "relu": lambda x: np.maximum(x, np.float32(0)),
              "tanh": np.tanh, "sigmoid": _sigmoid, "softmax": _softmax}


class Network:
    """The names and sizes of an experiment's inputs, hidden layers and outputs, read
    from its `network` parameters (the ESP SDK's format)."""

    def __init__(self, network: Mapping):
        self.spec = dict(network)
        self.inputs: list[tuple[str, int]] = [(i["name"], int(i["size"])) for i in network["inputs"]]
        self.outputs: list[tuple[str, int]] = [(o["name"], int(o["size"])) for o in network["outputs"]]
        hidden = network.get("hidden_layers")
        if hidden is None and "nb_hidden_units" in network:
            hidden = [{"layer_name": "hidden_1"}]  # the older flat form: one hidden layer
        # The first hidden layer is the input branches (or, with 0 units, none); the
        # others are Dense layers of their own, named as the server names them.
        self.hidden_names = [layer.get("layer_name", f"hidden_{i + 1}")
                             for i, layer in enumerate(hidden or [])][1:]

    def layers(self, data: bytes | memoryview) -> tuple[list[Layer], np.ndarray]:
        """The layers and the flat float32 weights (a view over `data`) of one candidate."""
        if len(data) < _HEADER.size:
            raise ValueError("candidate bytes too short for an NNWeightsBinary header")
        magic, version, count, weights = _HEADER.unpack_from(data, 0)
        if magic != MAGIC or version != VERSION:
            raise ValueError(f"not NNWeightsBinary version {VERSION} (magic {magic!r}, version {version})")
        start = _HEADER.size + _RECORD.size * count
        if len(data) != start + 4 * weights:
            raise ValueError(f"candidate bytes hold {len(data)} bytes, the header says {start + 4 * weights}")
        names = {BRANCH: [name for name, _ in self.inputs], HIDDEN: self.hidden_names,
                 HEAD: [name for name, _ in self.outputs]}
        seen = {BRANCH: 0, HIDDEN: 0, HEAD: 0}
        layers = []
        for i in range(count):
            inputs, outputs, use_bias, activation, role, _ = _RECORD.unpack_from(data, _HEADER.size + _RECORD.size * i)
            if role not in names or activation >= len(ACTIVATIONS) or seen[role] >= len(names[role]):
                raise ValueError(f"layer {i} of the candidate does not match the experiment's network")
            layers.append(Layer(names[role][seen[role]], inputs, outputs, bool(use_bias),
                                ACTIVATIONS[activation], role))
            seen[role] += 1
        if seen[HEAD] != len(self.outputs) or seen[BRANCH] not in (0, len(self.inputs)):
            raise ValueError("the candidate's layers do not match the experiment's network")
        flat = np.frombuffer(data, dtype="<f4", count=weights, offset=start)
        if sum(l.inputs * l.outputs + (l.outputs if l.use_bias else 0) for l in layers) != weights:
            raise ValueError("the candidate's layer shapes do not add up to its weights")
        return layers, flat

    @staticmethod
    def weights(layers: list[Layer], flat: np.ndarray) -> dict[str, list[np.ndarray]]:
        """Each layer's [kernel (inputs x outputs), bias], as Keras' get_weights() gives
        them ([kernel] without a bias); views over `flat`, not copies."""
        out, at = {}, 0
        for layer in layers:
            kernel = flat[at:at + layer.inputs * layer.outputs].reshape(layer.inputs, layer.outputs)
            at += kernel.size
            values = [kernel]
            if layer.use_bias:
                values.append(flat[at:at + layer.outputs])
                at += layer.outputs
            out[layer.name] = values
        return out

    def _feeds(self, inputs) -> list[np.ndarray]:
        if not isinstance(inputs, Mapping):
            if len(self.inputs) != 1:
                raise TypeError("this network has several inputs: pass {input name: array}")
            inputs = {self.inputs[0][0]: inputs}
        unknown = set(inputs) - {name for name, _ in self.inputs}
        if unknown:
            raise KeyError(f"no input named {sorted(unknown)[0]!r}; the inputs are {[n for n, _ in self.inputs]}")
        feeds, rows = [], None
        for name, size in self.inputs:
            if name not in inputs:
                raise KeyError(f"input {name!r} is missing")
            x = np.asarray(inputs[name], dtype=np.float32)
            x = x.reshape(1, -1) if x.ndim == 1 else x
            if x.ndim != 2 or x.shape[1] != size:
                raise ValueError(f"input {name!r} must have shape (n, {size}), got {np.shape(inputs[name])}")
            if rows is not None and x.shape[0] != rows:
                raise ValueError("every input must have the same number of rows")
            rows = x.shape[0]
            feeds.append(x)
        return feeds

    def forward(self, layers: list[Layer], flat: np.ndarray, inputs) -> dict[str, np.ndarray]:
        """Each output's (n, size) values for n rows of inputs ({name: (n, size)}, or
        one array for a single-input network)."""
        feeds = self._feeds(inputs)
        weights = self.weights(layers, flat)

        def dense(layer: Layer, x: np.ndarray) -> np.ndarray:
            kernel, *bias = weights[layer.name]
            if x.shape[1] != layer.inputs:
                raise ValueError(f"layer {layer.name!r} reads {layer.inputs} values, got {x.shape[1]}")
            y = x @ kernel
            return y + bias[0] if bias else y

        branches = [layer for layer in layers if layer.role == BRANCH]
        if branches:
            features = sum(dense(layer, x) for layer, x in zip(branches, feeds))
            features = _FUNCTIONS[branches[0].activation](features)
        else:
            features = np.concatenate(feeds, axis=1)
        for layer in layers:
            if layer.role == HIDDEN:
                features = _FUNCTIONS[layer.activation](dense(layer, features))
        return {layer.name: _FUNCTIONS[layer.activation](dense(layer, features))
                for layer in layers if layer.role == HEAD}
