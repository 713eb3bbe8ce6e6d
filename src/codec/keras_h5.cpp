#include "codec/keras_h5.h"

#include <hdf5.h>

#include <algorithm>
#include <cstring>
#include <functional>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>

#include "codec/keras_model.h"

namespace esp::codec {
namespace {

using Json = nlohmann::json;

// What Keras writes beside the config; any Keras 3 reads the file.
constexpr const char* kKerasVersion = "3.8.0";
constexpr const char* kBackend = "tensorflow";

// libhdf5 (serial) is not thread-safe; building a file takes this lock.
std::mutex& hdf5_lock() {
  static std::mutex lock;
  return lock;
}

// Closes an HDF5 handle when it goes out of scope.
class Handle {
 public:
  Handle(hid_t id, herr_t (*close)(hid_t)) : id_(id), close_(close) {}
  ~Handle() {
    if (id_ >= 0) close_(id_);
  }
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  operator hid_t() const { return id_; }  // NOLINT(google-explicit-constructor)
  bool ok() const { return id_ >= 0; }

 private:
  hid_t id_;
  herr_t (*close_)(hid_t);
};

struct Failure {
  std::string what;
};

void check(bool ok, const std::string& what) {
  if (!ok) throw Failure{what};
}

// A scalar attribute of variable-length UTF-8 text (what h5py writes for a str).
void text_attribute(hid_t at, const char* name, const std::string& value) {
  Handle type(H5Tcopy(H5T_C_S1), H5Tclose);
  H5Tset_size(type, H5T_VARIABLE);
  H5Tset_cset(type, H5T_CSET_UTF8);
  Handle space(H5Screate(H5S_SCALAR), H5Sclose);
  Handle attribute(H5Acreate2(at, name, type, space, H5P_DEFAULT, H5P_DEFAULT), H5Aclose);
  check(attribute.ok(), std::string("attribute ") + name);
  const char* text = value.c_str();
  check(H5Awrite(attribute, type, &text) >= 0, std::string("attribute ") + name);
}

// Fixed-length byte strings, one or an array of them (what h5py writes for bytes and for
// numpy arrays of bytes).
void bytes_attribute(hid_t at, const char* name, const std::vector<std::string>& values,
                     bool scalar) {
  std::size_t width = 1;
  for (const auto& value : values)
    width = std::max(width, value.size());
  Handle type(H5Tcopy(H5T_C_S1), H5Tclose);
  H5Tset_size(type, width);
  H5Tset_strpad(type, H5T_STR_NULLPAD);
  const hsize_t count = values.size();
  Handle space(scalar ? H5Screate(H5S_SCALAR) : H5Screate_simple(1, &count, nullptr), H5Sclose);
  Handle attribute(H5Acreate2(at, name, type, space, H5P_DEFAULT, H5P_DEFAULT), H5Aclose);
  check(attribute.ok(), std::string("attribute ") + name);
  std::string packed(width * values.size(), '\0');
  for (std::size_t i = 0; i < values.size(); ++i)
    std::memcpy(packed.data() + i * width, values[i].data(), values[i].size());
  check(H5Awrite(attribute, type, packed.data()) >= 0, std::string("attribute ") + name);
}

// An empty list: h5py stores np.asarray([]) as an empty float64 array.
void empty_attribute(hid_t at, const char* name) {
  const hsize_t zero = 0;
  Handle space(H5Screate_simple(1, &zero, nullptr), H5Sclose);
  Handle attribute(H5Acreate2(at, name, H5T_IEEE_F64LE, space, H5P_DEFAULT, H5P_DEFAULT), H5Aclose);
  check(attribute.ok(), std::string("attribute ") + name);
}

// A float32 dataset allocated at once (so its place in the file is known) and contiguous.
haddr_t weights_dataset(hid_t group, const std::string& path, std::vector<hsize_t> dims) {
  Handle space(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr), H5Sclose);
  Handle links(H5Pcreate(H5P_LINK_CREATE), H5Pclose);
  H5Pset_create_intermediate_group(links, 1);
  Handle properties(H5Pcreate(H5P_DATASET_CREATE), H5Pclose);
  H5Pset_layout(properties, H5D_CONTIGUOUS);
  H5Pset_alloc_time(properties, H5D_ALLOC_TIME_EARLY);
  Handle dataset(
      H5Dcreate2(group, path.c_str(), H5T_IEEE_F32LE, space, links, properties, H5P_DEFAULT),
      H5Dclose);
  check(dataset.ok(), "dataset " + path);
  const haddr_t offset = H5Dget_offset(dataset);
  check(offset != HADDR_UNDEF, "place of dataset " + path);
  return offset;
}

Json legacy_object(const Json& object) {
  return {{"class_name", object["class_name"]}, {"config", object["config"]}};
}

}  // namespace

std::string legacy_model_config(const evolution::NetworkSpec& spec) {
  Json config = model_config(spec);
  for (auto& layer : config["layers"]) {
    Json inner = layer["config"];
    if (inner.contains("dtype") && inner["dtype"].is_object()) inner["dtype"] = "float32";
    for (const char* key : {"kernel_initializer", "bias_initializer"}) {
      if (inner.contains(key)) inner[key] = legacy_object(inner[key]);
    }
    layer = {{"class_name", layer["class_name"]},
             {"config", std::move(inner)},
             {"name", layer["name"]},
             {"inbound_nodes", layer["inbound_nodes"]}};
  }
  return Json{{"class_name", "Functional"}, {"config", std::move(config)}}.dump();
}

Result<KerasH5Codec> KerasH5Codec::create(const evolution::NetworkSpec& spec) {
  evolution::NetworkShape shape(spec);
  std::lock_guard lock(hdf5_lock());
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);  // failures come back as values, not prints
  try {
    std::vector<Region> regions;
    std::string image;
    {
      Handle access(H5Pcreate(H5P_FILE_ACCESS), H5Pclose);
      // In memory only: the bytes are taken out with H5Fget_file_image.
      H5Pset_fapl_core(access, 64 << 10, 0);
      // The oldest file format, as h5py writes by default, with small symbol-table nodes:
      // groups here hold one or two entries, and the default nodes of 16 entries made
      // the file half again as large.
      Handle creation(H5Pcreate(H5P_FILE_CREATE), H5Pclose);
      H5Pset_sym_k(creation, 2, 2);
      Handle file(H5Fcreate("esp-candidate.h5", H5F_ACC_TRUNC, creation, access), H5Fclose);
      check(file.ok(), "the file");
      text_attribute(file, "keras_version", kKerasVersion);
      text_attribute(file, "backend", kBackend);
      bytes_attribute(file, "model_config", {legacy_model_config(spec)}, true);

      Handle weights(H5Gcreate2(file, "model_weights", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
                     H5Gclose);
      check(weights.ok(), "group model_weights");
      // Every layer of the model in its order, weights or not (Keras' model.layers).
      std::vector<std::string> layer_names;
      const Json config = model_config(spec);
      for (const auto& layer : config["layers"])
        layer_names.push_back(layer["name"]);
      bytes_attribute(weights, "layer_names", layer_names, false);
      bytes_attribute(weights, "backend", {kBackend}, true);
      bytes_attribute(weights, "keras_version", {kKerasVersion}, true);

      std::map<std::string, const evolution::LayerShape*, std::less<>> dense;
      for (const auto& layer : shape.layers())
        dense.emplace(layer.name, &layer);
      std::vector<std::string> sorted = layer_names;
      std::sort(sorted.begin(), sorted.end());  // as Keras writes the groups
      for (const auto& name : sorted) {
        Handle group(H5Gcreate2(weights, name.c_str(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
                     H5Gclose);
        check(group.ok(), "group " + name);
        auto found = dense.find(name);
        if (found == dense.end()) {
          empty_attribute(group, "weight_names");
          continue;
        }
        const auto& layer = *found->second;
        std::vector<std::string> names{name + "/kernel"};
        if (layer.use_bias) names.push_back(name + "/bias");
        bytes_attribute(group, "weight_names", names, false);
        regions.push_back({weights_dataset(group, names[0], {layer.inputs, layer.outputs}),
                           layer.offset, layer.kernel_size()});
        if (layer.use_bias) {
          regions.push_back({weights_dataset(group, names[1], {layer.outputs}), layer.bias_offset(),
                             layer.outputs});
        }
      }
      Handle top(
          H5Gcreate2(weights, "top_level_model_weights", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
          H5Gclose);
      check(top.ok(), "group top_level_model_weights");
      empty_attribute(top, "weight_names");
      check(H5Fflush(file, H5F_SCOPE_GLOBAL) >= 0, "flushing the file");
      const ssize_t size = H5Fget_file_image(file, nullptr, 0);
      check(size > 0, "the file's bytes");
      image.resize(static_cast<std::size_t>(size));
      check(H5Fget_file_image(file, image.data(), image.size()) == size, "the file's bytes");
    }
    for (const auto& region : regions)
      check(region.file_offset + region.count * sizeof(float) <= image.size(), "dataset places");
    return KerasH5Codec(std::move(shape), std::move(image), std::move(regions));
  } catch (const Failure& failure) {
    return Error{Code::kInternal, "cannot write the KerasNN file: " + failure.what};
  }
}

std::string KerasH5Codec::encode(std::span<const float> genome) const {
  std::string bytes = image_;
  // Little-endian float32, as the datasets are typed (static_assert'ed by the binary codec).
  for (const auto& region : regions_) {
    std::memcpy(bytes.data() + region.file_offset, genome.data() + region.genome_offset,
                region.count * sizeof(float));
  }
  return bytes;
}

Result<std::vector<float>> KerasH5Codec::decode(std::string_view bytes) const {
  auto invalid = [] {
    return Error{Code::kInvalidArgument,
                 "interpretation is not this network's KerasNN file (written by esp)"};
  };
  if (bytes.size() != image_.size()) return invalid();
  // Everything but the weights must be exactly the file this codec writes.
  std::size_t at = 0;
  std::vector<Region> by_place = regions_;
  std::sort(by_place.begin(), by_place.end(),
            [](const Region& a, const Region& b) { return a.file_offset < b.file_offset; });
  for (const auto& region : by_place) {
    if (bytes.substr(at, region.file_offset - at) !=
        std::string_view(image_).substr(at, region.file_offset - at))
      return invalid();
    at = region.file_offset + region.count * sizeof(float);
  }
  if (bytes.substr(at) != std::string_view(image_).substr(at)) return invalid();
  std::vector<float> genome(shape_.weight_count());
  for (const auto& region : regions_) {
    std::memcpy(genome.data() + region.genome_offset, bytes.data() + region.file_offset,
                region.count * sizeof(float));
  }
  return genome;
}

}  // namespace esp::codec
