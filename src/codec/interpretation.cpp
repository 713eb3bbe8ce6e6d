#include "codec/interpretation.h"

#include <bit>
#include <cstring>

namespace esp::codec {
namespace {

constexpr std::string_view kMagic = "ESPW";
// 2: the first hidden layer is one branch per input (role 2), as the original's model.
constexpr std::uint16_t kFormatVersion = 2;
constexpr std::size_t kFixedHeaderBytes = 12;  // magic, version, layer count, weight count

static_assert(std::endian::native == std::endian::little,
              "weights are written as stored in memory");

enum class Role : std::uint8_t { kHidden = 0, kHead = 1, kInputBranch = 2 };

void put_u16(std::string& out, std::uint16_t value) {
  out += static_cast<char>(value & 0xFF);
  out += static_cast<char>(value >> 8);
}

void put_u32(std::string& out, std::uint32_t value) {
  for (int shift = 0; shift < 32; shift += 8)
    out += static_cast<char>((value >> shift) & 0xFF);
}

std::uint32_t get_u32(std::string_view bytes, std::size_t at) {
  std::uint32_t value = 0;
  for (int i = 3; i >= 0; --i)
    value = (value << 8) | static_cast<unsigned char>(bytes[at + static_cast<std::size_t>(i)]);
  return value;
}

std::string header_of(const evolution::NetworkShape& shape) {
  std::string out(kMagic);
  put_u16(out, kFormatVersion);
  put_u16(out, static_cast<std::uint16_t>(shape.layers().size()));
  put_u32(out, static_cast<std::uint32_t>(shape.weight_count()));
  const std::size_t branches = shape.branches().size();
  const std::size_t hidden = branches + shape.hidden_layers().size();
  for (std::size_t i = 0; i < shape.layers().size(); ++i) {
    const auto& layer = shape.layers()[i];
    put_u32(out, static_cast<std::uint32_t>(layer.inputs));
    put_u32(out, static_cast<std::uint32_t>(layer.outputs));
    out += static_cast<char>(layer.use_bias ? 1 : 0);
    out += static_cast<char>(layer.activation);
    out += static_cast<char>(i < branches ? Role::kInputBranch
                             : i < hidden ? Role::kHidden
                                          : Role::kHead);
    out += '\0';
  }
  return out;
}

Error invalid(std::string message) {
  return Error{Code::kInvalidArgument, std::move(message)};
}

}  // namespace

std::string weights_header(const evolution::NetworkShape& shape) {
  return header_of(shape);
}

std::string encode_weights(const evolution::NetworkShape& shape, std::span<const float> genome) {
  std::string out = header_of(shape);
  const std::size_t header = out.size();
  out.resize(header + genome.size_bytes());
  std::memcpy(out.data() + header, genome.data(), genome.size_bytes());
  return out;
}

Result<std::vector<float>> decode_weights(const evolution::NetworkShape& shape,
                                          std::string_view bytes) {
  if (bytes.size() < kFixedHeaderBytes || bytes.substr(0, kMagic.size()) != kMagic) {
    return invalid("interpretation is not NNWeights (no ESPW header)");
  }
  const std::string expected = header_of(shape);
  if (bytes.size() < expected.size() || bytes.substr(0, expected.size()) != expected) {
    return invalid("interpretation describes another network than the experiment's");
  }
  const std::size_t weights = get_u32(bytes, 8);
  if (bytes.size() != expected.size() + weights * sizeof(float)) {
    return invalid("interpretation has " +
                   std::to_string((bytes.size() - expected.size()) / sizeof(float)) +
                   " weights, the network needs " + std::to_string(weights));
  }
  std::vector<float> genome(weights);
  std::memcpy(genome.data(), bytes.data() + expected.size(), weights * sizeof(float));
  return genome;
}

}  // namespace esp::codec
