// The NNWeights interpretation bytes of a candidate (docs/interpretation.md): a small
// header describing every layer, then the weights as little-endian float32.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "evolution/network.h"

namespace esp::codec {

std::string encode_weights(const evolution::NetworkShape& shape, std::span<const float> genome);
// What encode_weights writes before the weights (the same for every genome of `shape`),
// for a writer that puts the weights in place itself.
std::string weights_header(const evolution::NetworkShape& shape);

// The weights, after checking the header describes exactly `shape`; kInvalidArgument
// saying what differs otherwise.
Result<std::vector<float>> decode_weights(const evolution::NetworkShape& shape,
                                          std::string_view bytes);

}  // namespace esp::codec
