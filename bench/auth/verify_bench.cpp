// Token verification cost: a signature check per call (distinct tokens) against the
// digest cache hit a repeated token costs.
#include <benchmark/benchmark.h>

#include "auth/issuer.h"
#include "auth/verifier.h"

namespace esp::auth {
namespace {

Key key_for(Algorithm algorithm) {
  return algorithm == Algorithm::kHS256 ? *Key::hmac(std::string(32, 'k'), "hs")
                                        : *Key::generate(algorithm);
}

void Verify(benchmark::State& state) {
  const auto algorithm = static_cast<Algorithm>(state.range(0));
  const bool repeated = state.range(1) != 0;
  TokenIssuer issuer("https://esp.bench/", "esp", {key_for(algorithm)}, std::chrono::seconds(3600));
  constexpr int kTokens = 4096;
  std::vector<std::string> tokens;
  for (int i = 0; i < kTokens; ++i)
    tokens.push_back(issuer.issue("user" + std::to_string(i), Scopes::all())->token);
  // A cache of one entry per distinct token would make every call a hit; keep it too small.
  Verifier verifier({issuer.trusted()}, {.cache_entries = repeated ? 10'000U : 1U});
  std::size_t i = 0;
  for (auto _ : state) {
    auto claims = verifier.verify(tokens[repeated ? 0 : i++ % kTokens]);
    if (!claims.ok()) state.SkipWithError(claims.error().message.c_str());
    benchmark::DoNotOptimize(claims);
  }
  state.SetLabel(std::string(name_of(algorithm)) + (repeated ? " cached" : " signature checked"));
}

BENCHMARK(Verify)
    ->ArgsProduct({{static_cast<long>(Algorithm::kHS256), static_cast<long>(Algorithm::kRS256),
                    static_cast<long>(Algorithm::kES256)},
                   {0, 1}})
    ->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace esp::auth

BENCHMARK_MAIN();
