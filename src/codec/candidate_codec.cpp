#include "codec/candidate_codec.h"

#include "codec/interpretation.h"
#include "codec/keras_h5.h"
#include "codec/keras_model.h"

namespace esp::codec {

class CandidateCodec::Format {
 public:
  virtual ~Format() = default;
  virtual const evolution::NetworkShape& shape() const = 0;
  virtual std::string encode(std::span<const float> genome) const = 0;
  virtual std::size_t largest_encoding() const = 0;
  virtual std::string_view encode(std::span<const float> genome,
                                  std::span<const WeightTexts* const> sources,
                                  std::string& buffer) const = 0;
  virtual bool keeps_texts() const = 0;
  virtual std::optional<WeightTexts> texts_of(std::span<const float> genome,
                                              std::span<char> slots) const = 0;
  virtual std::optional<WeightTexts> texts_from(std::span<const float> genome,
                                                std::string_view interpretation,
                                                std::span<char> slots) const = 0;
  virtual Result<std::vector<float>> decode(std::string_view bytes) const = 0;
};

namespace {

template <typename Codec>
class Adapter final : public CandidateCodec::Format {
  static constexpr bool kKeepsTexts = requires(const Codec& codec) { codec.texts_of({}, {}); };

 public:
  explicit Adapter(Codec codec) : codec_(std::move(codec)) {}
  const evolution::NetworkShape& shape() const override { return codec_.shape(); }
  std::string encode(std::span<const float> genome) const override { return codec_.encode(genome); }
  std::size_t largest_encoding() const override { return codec_.largest_encoding(); }
  std::string_view encode(std::span<const float> genome,
                          std::span<const WeightTexts* const> sources,
                          std::string& buffer) const override {
    if constexpr (kKeepsTexts) {
      return codec_.encode(genome, sources, buffer);
    } else {
      buffer = codec_.encode(genome);
      return buffer;
    }
  }
  bool keeps_texts() const override { return kKeepsTexts; }
  std::optional<WeightTexts> texts_of(std::span<const float> genome,
                                      std::span<char> slots) const override {
    if constexpr (kKeepsTexts) {
      return codec_.texts_of(genome, slots);
    } else {
      return std::nullopt;
    }
  }
  std::optional<WeightTexts> texts_from(std::span<const float> genome,
                                        std::string_view interpretation,
                                        std::span<char> slots) const override {
    if constexpr (kKeepsTexts) {
      return codec_.texts_from(genome, interpretation, slots);
    } else {
      return std::nullopt;
    }
  }
  Result<std::vector<float>> decode(std::string_view bytes) const override {
    return codec_.decode(bytes);
  }

 private:
  Codec codec_;
};

class BinaryCodec {
 public:
  explicit BinaryCodec(const evolution::NetworkSpec& spec) : shape_(spec) {}
  const evolution::NetworkShape& shape() const { return shape_; }
  std::string encode(std::span<const float> genome) const { return encode_weights(shape_, genome); }
  std::size_t largest_encoding() const {
    return weights_header(shape_).size() + shape_.weight_count() * sizeof(float);
  }
  Result<std::vector<float>> decode(std::string_view bytes) const {
    return decode_weights(shape_, bytes);
  }

 private:
  evolution::NetworkShape shape_;
};

}  // namespace

Result<CandidateCodec> CandidateCodec::create(const evolution::ExperimentParams& params) {
  const auto& representation = params.leaf.representation;
  if (representation == "NNWeights")
    return CandidateCodec(
        std::make_shared<Adapter<NNWeightsCodec>>(NNWeightsCodec(params.network)));
  if (representation == "NNWeightsBinary") return binary(params.network);
  if (representation == "KerasNN") {
    auto codec = KerasH5Codec::create(params.network);
    if (!codec.ok()) return codec.error();
    return CandidateCodec(std::make_shared<Adapter<KerasH5Codec>>(std::move(*codec)));
  }
  return Error{Code::kInvalidArgument,
               "LEAF.representation " + representation +
                   " is not one esp writes (NNWeights, KerasNN or NNWeightsBinary)"};
}

CandidateCodec CandidateCodec::binary(const evolution::NetworkSpec& network) {
  return CandidateCodec(std::make_shared<Adapter<BinaryCodec>>(BinaryCodec(network)));
}

bool CandidateCodec::is_binary() const {
  return dynamic_cast<const Adapter<BinaryCodec>*>(format_.get()) != nullptr;
}

const evolution::NetworkShape& CandidateCodec::shape() const {
  return format_->shape();
}

std::string CandidateCodec::encode(std::span<const float> genome) const {
  return format_->encode(genome);
}

std::string_view CandidateCodec::encode(std::span<const float> genome,
                                        std::span<const WeightTexts* const> sources,
                                        std::string& buffer) const {
  return format_->encode(genome, sources, buffer);
}

std::size_t CandidateCodec::largest_encoding() const {
  return format_->largest_encoding();
}

bool CandidateCodec::keeps_texts() const {
  return format_->keeps_texts();
}

std::optional<WeightTexts> CandidateCodec::texts_of(std::span<const float> genome,
                                                    std::span<char> slots) const {
  return format_->texts_of(genome, slots);
}

std::optional<WeightTexts> CandidateCodec::texts_from(std::span<const float> genome,
                                                      std::string_view interpretation,
                                                      std::span<char> slots) const {
  return format_->texts_from(genome, interpretation, slots);
}

Result<std::vector<float>> CandidateCodec::decode(std::string_view bytes) const {
  return format_->decode(bytes);
}

}  // namespace esp::codec
