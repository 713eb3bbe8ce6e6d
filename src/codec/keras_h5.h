// The KerasNN interpretation: a whole Keras model in the bytes of a legacy HDF5 (.h5)
// file, as Keras' legacy_h5_format.save_model_to_hdf5 writes it (model_config and
// keras_version attributes, a model_weights group with one group per layer holding its
// kernel and bias datasets), written with libhdf5 (docs/interpretation.md).
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "evolution/network.h"
#include "evolution/params.h"

namespace esp::codec {

class KerasH5Codec {
 public:
  // Builds the file once with every weight 0 and remembers where each dataset's values
  // sit in it; encoding a candidate is then a copy with its weights written in place.
  // kInternal when libhdf5 cannot build the file.
  static Result<KerasH5Codec> create(const evolution::NetworkSpec& spec);

  const evolution::NetworkShape& shape() const { return shape_; }
  std::string encode(std::span<const float> genome) const;
  std::size_t largest_encoding() const { return image_.size(); }  // every file is its size
  // The genome from bytes this codec wrote; kInvalidArgument for any other file.
  Result<std::vector<float>> decode(std::string_view bytes) const;

 private:
  // `count` float32 values at `file_offset` in the file are genome[genome_offset...].
  struct Region {
    std::size_t file_offset = 0;
    std::size_t genome_offset = 0;
    std::size_t count = 0;
  };
  KerasH5Codec(evolution::NetworkShape shape, std::string image, std::vector<Region> regions)
      : shape_(std::move(shape)), image_(std::move(image)), regions_(std::move(regions)) {}

  evolution::NetworkShape shape_;
  std::string image_;
  std::vector<Region> regions_;
};

// The model_config attribute: {"class_name": "Functional", "config": ...} in the legacy
// layout Keras reads .h5 files with.
std::string legacy_model_config(const evolution::NetworkSpec& spec);

}  // namespace esp::codec
