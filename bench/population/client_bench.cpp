// The population benchmark's loop from a C++ client (the generated stub), so the client's
// own cost is visible beside the Python one: seed + N generations, the evaluated
// population sent back whole as the SDK does, random metrics.
//   client_bench GRPC_PORT TOKEN POPULATION HIDDEN INPUTS OUTPUTS OBJECTIVES GENERATIONS
//                REPRESENTATION
// Prints one line per generation and
//   RESULT case=<P>x<W>x<M> encoding=<binary|json|h5> client=cpp mean_ms=<x> client_ms=<y>
// where client_ms is the client's own work per generation (building the request and
// filling metrics), outside the call.
#include <grpcpp/grpcpp.h>

#include <chrono>
#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <string>

#include "population_service.grpc.pb.h"

namespace {

using Clock = std::chrono::steady_clock;
using Json = nlohmann::json;

double ms_since(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 10) {
    std::fprintf(stderr,
                 "usage: client_bench PORT TOKEN POPULATION HIDDEN INPUTS OUTPUTS OBJECTIVES "
                 "GENERATIONS REPRESENTATION\n");
    return 2;
  }
  const std::string port = argv[1];
  const std::string token = argv[2];
  const int population = std::stoi(argv[3]);
  const int hidden = std::stoi(argv[4]);
  const int inputs = std::stoi(argv[5]);
  const int outputs = std::stoi(argv[6]);
  const int objectives = std::stoi(argv[7]);
  const int generations = std::stoi(argv[8]);
  const std::string representation = argv[9];

  Json fitness = Json::array();
  for (int i = 0; i < objectives; ++i)
    fitness.push_back({{"metric_name", "m" + std::to_string(i)}, {"maximize", i % 2 == 0}});
  const Json params = {
      {"network",
       {{"inputs", {{{"name", "context"}, {"size", inputs}, {"values", {"float"}}}}},
        {"hidden_layers",
         {{{"layer_name", "hidden"},
           {"layer_type", "Dense"},
           {"layer_params", {{"units", hidden}, {"activation", "tanh"}, {"use_bias", true}}}}}},
        {"outputs",
         {{{"name", "action"},
           {"size", outputs},
           {"activation", "softmax"},
           {"use_bias", true}}}}}},
      {"evolution",
       {{"population_size", population},
        {"nb_elites", std::max(1, population / 10)},
        {"fitness", fitness}}},
      {"LEAF", {{"representation", representation}}}};
  const int weights = inputs * hidden + hidden + hidden * outputs + outputs;
  const std::string experiment =
      "cpp-bench-" + std::to_string(population) + "-" + std::to_string(weights) + "-" +
      std::to_string(std::chrono::system_clock::now().time_since_epoch().count());

  grpc::ChannelArguments arguments;
  arguments.SetMaxReceiveMessageSize(std::numeric_limits<int>::max());
  arguments.SetMaxSendMessageSize(std::numeric_limits<int>::max());
  auto channel =
      grpc::CreateCustomChannel("127.0.0.1:" + port, grpc::InsecureChannelCredentials(), arguments);
  auto stub = population::PopulationService::NewStub(channel);
  std::mt19937_64 random(7);
  std::uniform_real_distribution<double> uniform(0, 1);

  population::PopulationRequest request;
  request.set_version("v1");
  request.set_experiment_id(experiment);
  request.set_config(params.dump());
  double total_ms = 0;
  double client_ms = 0;
  std::size_t message_bytes = 0;
  for (int generation = 0; generation <= generations; ++generation) {
    grpc::ClientContext context;
    context.AddMetadata("authorization", "Bearer " + token);
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::minutes(10));
    auto* answer = new population::PopulationResponse();
    const auto started = Clock::now();
    const grpc::Status status = stub->NextPopulation(&context, request, answer);
    const double call_ms = ms_since(started);
    if (!status.ok()) {
      std::fprintf(stderr, "NextPopulation: %s\n", status.error_message().c_str());
      return 1;
    }
    message_bytes = answer->ByteSizeLong();
    const auto client_started = Clock::now();
    answer->clear_evaluation_stats();
    for (auto& candidate : *answer->mutable_population()) {
      Json metrics = Json::object();
      for (int i = 0; i < objectives; ++i)
        metrics["m" + std::to_string(i)] = uniform(random);
      candidate.set_metrics(metrics.dump());
    }
    // The evaluated population goes back whole, as the SDK sends it.
    request.set_allocated_evaluated_population_response(answer);
    const double own_ms = ms_since(client_started);
    std::printf("generation %d: %.1f ms call, %.1f ms client, %.2f MB\n",
                answer->generation_count(), call_ms, own_ms,
                static_cast<double>(message_bytes) / 1e6);
    if (generation > 0) {
      total_ms += call_ms;
      client_ms += own_ms;
    }
  }
  const std::map<std::string, std::string> encodings = {
      {"NNWeightsBinary", "binary"}, {"NNWeights", "json"}, {"KerasNN", "h5"}};
  std::printf(
      "RESULT case=%dx%dx%d encoding=%s client=cpp mean_ms=%.1f client_ms=%.1f "
      "message_mb=%.2f\n",
      population, weights, objectives, encodings.at(representation).c_str(), total_ms / generations,
      client_ms / generations, static_cast<double>(message_bytes) / 1e6);
  return 0;
}
