// Fresh genomes for the first generation, drawn the way Keras initialisers draw
// kernels, scaled by `initialization_range`.
#pragma once

#include <span>

#include "evolution/network.h"
#include "evolution/params.h"
#include "evolution/random.h"

namespace esp::evolution {

// Fills `genome` (shape.weight_count() floats). Kernels follow `distribution`:
//   uniform     U(-range, range)            normal  N(0, range)
//   xavier      U(-l, l), l = range * sqrt(6 / (fan_in + fan_out))
//   he          N(0, range * sqrt(2 / fan_in))
//   orthogonal  range * an orthogonal matrix (QR of a Gaussian matrix, sign-fixed)
// Biases start at N(0, 0.1 * range) rather than Keras' zeros, because percentage
// mutation scales noise by the weight and could never move a zero.
void initialize_genome(const NetworkShape& shape, Initialization distribution, float range,
                       RandomStream& random, std::span<float> genome);

}  // namespace esp::evolution
