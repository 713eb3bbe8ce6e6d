// Prints candidates of an experiment in its representation beside what the engine's own
// forward pass prescribes for random contexts, so test_sdk_formats.py can decode them as
// the SDK does (numpy, h5py) and compare.
//   forward_cases PARAMS_FILE SEED CANDIDATES CONTEXTS
// stdout: {"candidates": [{"interpretation_base64", "contexts": [[...]], "actions": [[...]]}]}
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "codec/candidate_codec.h"
#include "core/base64url.h"
#include "evolution/engine.h"
#include "evolution/forward.h"
#include "evolution/params.h"
#include "evolution/random.h"

int main(int argc, char** argv) {
  using namespace esp;
  if (argc != 5) {
    std::cerr << "usage: forward_cases PARAMS_FILE SEED CANDIDATES CONTEXTS\n";
    return 2;
  }
  std::ifstream file(argv[1]);
  std::stringstream text;
  text << file.rdbuf();
  auto params = evolution::parse_params(text.str());
  if (!params.ok()) {
    std::cerr << params.error().message << "\n";
    return 1;
  }
  params->evolution.population_size = std::stoi(argv[3]);
  params->evolution.nb_elites = 0;
  auto codec = codec::CandidateCodec::create(*params);
  if (!codec.ok()) {
    std::cerr << codec.error().message << "\n";
    return 1;
  }
  const auto seed = std::stoull(argv[2]);
  const auto population = evolution::initial_population(*params, seed);
  evolution::ForwardPass pass(codec->shape());
  evolution::RandomStream random(evolution::mix_key(seed, 99));
  nlohmann::json out = {{"candidates", nlohmann::json::array()}};
  for (std::size_t i = 0; i < population.genomes.size(); ++i) {
    nlohmann::json contexts = nlohmann::json::array();
    nlohmann::json actions = nlohmann::json::array();
    for (int c = 0; c < std::stoi(argv[4]); ++c) {
      std::vector<float> context(codec->shape().input_size());
      random.fill_uniform(context, -2.0F, 2.0F);
      contexts.push_back(context);
      actions.push_back(pass.run(population.genomes[i], context));
    }
    out["candidates"].push_back(
        {{"interpretation_base64", base64_encode(codec->encode(population.genomes[i]))},
         {"contexts", contexts},
         {"actions", actions}});
  }
  std::cout << out.dump() << "\n";
  return 0;
}
