#include "auth/jws.h"

#include "auth/strict_json.h"
#include "core/base64url.h"

namespace esp::auth {
namespace {

Error unauthenticated(std::string reason) {
  return Error{Code::kUnauthenticated, std::move(reason)};
}

}  // namespace

Result<std::string> sign_compact(const Key& key, std::string_view payload,
                                 const nlohmann::json& extra_header) {
  nlohmann::json header = extra_header.is_object() ? extra_header : nlohmann::json::object();
  header["alg"] = name_of(key.algorithm());
  if (!header.contains("typ")) header["typ"] = "JWT";
  if (!key.kid().empty()) header["kid"] = key.kid();
  std::string token = base64url_encode(header.dump()) + "." + base64url_encode(payload);
  auto signature = key.sign(token);
  if (!signature.ok()) return signature.error();
  token += ".";
  token += base64url_encode(*signature);
  return token;
}

Result<CompactJws> parse_compact(std::string_view token, std::size_t max_bytes) {
  if (token.size() > max_bytes) return unauthenticated("token too large");
  const auto first = token.find('.');
  const auto second = first == std::string_view::npos ? first : token.find('.', first + 1);
  if (second == std::string_view::npos || token.find('.', second + 1) != std::string_view::npos) {
    return unauthenticated("token must have three segments");
  }
  const auto header_text = token.substr(0, first);
  const auto payload_text = token.substr(first + 1, second - first - 1);
  const auto signature_text = token.substr(second + 1);
  if (header_text.empty() || payload_text.empty() || signature_text.empty()) {
    return unauthenticated("token has an empty segment");
  }
  auto header_json = base64url_decode(header_text);
  auto payload = base64url_decode(payload_text);
  auto signature = base64url_decode(signature_text);
  if (!header_json || !payload || !signature) return unauthenticated("token is not base64url");
  auto header = parse_strict_object(*header_json);
  if (!header) return unauthenticated("token header is not a JSON object with unique members");
  auto alg = header->find("alg");
  if (alg == header->end() || !alg->is_string() ||
      !algorithm_named(alg->get_ref<const std::string&>())) {
    return unauthenticated("token algorithm is not accepted");
  }
  if (header->contains("crit"))
    return unauthenticated("token has critical extensions esp does not implement");
  return CompactJws{.header = std::move(*header),
                    .payload = std::move(*payload),
                    .signature = std::move(*signature),
                    .signing_input = std::string(token.substr(0, second))};
}

SignatureCheck check_signature(const CompactJws& jws, std::span<const Key> keys) {
  const Algorithm alg = *algorithm_named(jws.header["alg"].get<std::string>());
  auto kid = jws.header.find("kid");
  const bool has_kid = kid != jws.header.end();
  if (has_kid && !kid->is_string()) return SignatureCheck::kInvalid;
  bool known_kid = false;
  for (const Key& key : keys) {
    if (has_kid && !key.kid().empty() && key.kid() != kid->get_ref<const std::string&>()) continue;
    known_kid = true;
    if (key.algorithm() == alg && key.verify(jws.signing_input, jws.signature)) {
      return SignatureCheck::kValid;
    }
  }
  return has_kid && !known_kid ? SignatureCheck::kUnknownKid : SignatureCheck::kInvalid;
}

Error signature_error(SignatureCheck check) {
  return unauthenticated(check == SignatureCheck::kUnknownKid ? "token key id is unknown"
                                                              : "token signature is invalid");
}

Result<CompactJws> verify_compact(std::string_view token, std::span<const Key> keys,
                                  std::size_t max_bytes) {
  auto jws = parse_compact(token, max_bytes);
  if (!jws.ok()) return jws;
  const auto check = check_signature(*jws, keys);
  if (check != SignatureCheck::kValid) return signature_error(check);
  return jws;
}

}  // namespace esp::auth
