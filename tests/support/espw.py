"""The documented NNWeights interpretation (docs/interpretation.md), decoded as any
client would: ESPW, version, layers, weight count, layer records, float32 LE."""
import struct


def decode_weights(interpretation):
    """(weights, number of layers)"""
    assert interpretation[:4] == b"ESPW"
    version, layers, weights = struct.unpack_from("<HHI", interpretation, 4)
    assert version == 2
    offset = 12 + 12 * layers
    return list(struct.unpack_from(f"<{weights}f", interpretation, offset)), layers
