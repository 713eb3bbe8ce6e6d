// Evaluates genomes in one of `esp run`'s domains for optimisers outside the service
// (DEAP's CMA-ES in bench/optimisers/run.py), so every optimiser meets the same physics.
//   domain_eval PARAMS_FILE DOMAIN METRIC
// stdin: blocks of [u32 count][count x weights float32]; stdout: [count x float64] of
// METRIC for each, flushed after every block. Ends at end of input. METRIC
// "validation" gives the domain's held-out check instead (its value: steps for
// double-pole, generalisation starts passed for double-pole-nv).
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <span>
#include <sstream>
#include <string_view>
#include <vector>

#include "cli/domains.h"
#include "evolution/forward.h"
#include "evolution/params.h"

int main(int argc, char** argv) {
  using namespace esp;
  if (argc != 4) {
    std::cerr << "usage: domain_eval PARAMS_FILE DOMAIN METRIC\n";
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
  auto domain = cli::find_domain(argv[2]);
  if (domain == nullptr) {
    std::cerr << "no domain named " << argv[2] << "\n";
    return 1;
  }
  evolution::ForwardPass pass{evolution::NetworkShape(params->network)};
  if (auto wrong = domain->check_network(pass.shape())) {
    std::cerr << *wrong << "\n";
    return 1;
  }
  const std::size_t weights = pass.shape().weight_count();
  std::uint32_t count = 0;
  std::vector<float> genome(weights);
  while (std::fread(&count, sizeof count, 1, stdin) == 1) {
    for (std::uint32_t i = 0; i < count; ++i) {
      if (std::fread(genome.data(), sizeof(float), weights, stdin) != weights) return 1;
      const std::span<const float> one[] = {genome};
      const double value = std::string_view(argv[3]) == "validation"
                               ? domain->validate(pass, one).value
                               : domain->evaluate(pass, genome, 0).at(argv[3]);
      std::fwrite(&value, sizeof value, 1, stdout);
    }
    std::fflush(stdout);
  }
  return 0;
}
