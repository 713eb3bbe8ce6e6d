// The ESP SDK loop through the generated C++ client stub against a real espd.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "auth/issuer.h"
#include "child_process.h"
#include "population_service.grpc.pb.h"

namespace esp {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

constexpr const char* kSecret = "a-test-secret-of-at-least-32-bytes!!";
constexpr const char* kIssuer = "http://esp.test/";

std::string fixture() {
  std::ifstream file(std::string(ESP_FIXTURES_DIR) + "/experiment.json");
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}

class PopulationClient : public ::testing::Test {
 protected:
  void SetUp() override {
    fs::create_directories(data_);
    ::setenv("JWT_SECRET", kSecret, 1);
    espd_ = std::make_unique<testing::ChildProcess>(std::vector<std::string>{
        ESPD_BINARY, "--data-dir", data_.string(), "--http-addr", "127.0.0.1:0", "--grpc-addr",
        "127.0.0.1:0", "--issuer", kIssuer, "--workers", "1"});
    ::unsetenv("JWT_SECRET");
    for (std::string line = espd_->read_line(); !line.empty(); line = espd_->read_line()) {
      auto log = Json::parse(line, nullptr, false);
      if (log.is_object() && log.value("msg", "") == "listening") {
        grpc_address_ = log["grpc"].get<std::string>();
        break;
      }
    }
    ASSERT_FALSE(grpc_address_.empty()) << "espd did not start";
    auto key = auth::Key::hmac(kSecret);
    auth::TokenIssuer issuer(kIssuer, "esp", {*key}, std::chrono::seconds(600));
    token_ = issuer.issue("cpp-client", auth::Scopes::all())->token;
    grpc::ChannelArguments arguments;
    arguments.SetMaxReceiveMessageSize(50 << 20);  // as ESP SDK clients do
    stub_ = population::PopulationService::NewStub(
        grpc::CreateCustomChannel(grpc_address_, grpc::InsecureChannelCredentials(), arguments));
  }

  void TearDown() override {
    stub_.reset();  // close the channel first, so espd's graceful shutdown has nothing to wait for
    espd_.reset();
    fs::remove_all(data_);
  }

  grpc::Status next(const population::PopulationRequest& request,
                    population::PopulationResponse& response) {
    grpc::ClientContext context;
    context.AddMetadata("authorization", "Bearer " + token_);
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
    return stub_->NextPopulation(&context, request, &response);
  }

  fs::path data_ = fs::temp_directory_path() / ("espd-cpp-client-" + std::to_string(::getpid()));
  std::unique_ptr<testing::ChildProcess> espd_;
  std::string grpc_address_;
  std::string token_;
  std::unique_ptr<population::PopulationService::Stub> stub_;
};

TEST_F(PopulationClient, SeedEvaluateNextAndGetAgain) {
  population::PopulationRequest request;
  request.set_version("v1");
  request.set_experiment_id("cpp");
  request.set_config(fixture());
  population::PopulationResponse seed;
  ASSERT_TRUE(next(request, seed).ok());
  ASSERT_EQ(seed.generation_count(), 1);
  ASSERT_EQ(seed.population_size(), 20);

  // Score by candidate position; the two best must come back unchanged as elites.
  auto* evaluated = request.mutable_evaluated_population_response();
  *evaluated = seed;
  for (int i = 0; i < evaluated->population_size(); ++i) {
    evaluated->mutable_population(i)->set_metrics(Json{{"score", i}}.dump());
  }
  population::PopulationResponse second;
  ASSERT_TRUE(next(request, second).ok());
  EXPECT_EQ(second.generation_count(), 2);
  ASSERT_EQ(second.population_size(), 20);
  EXPECT_EQ(second.population(0).id(), seed.population(19).id());
  EXPECT_EQ(second.population(0).interpretation(), seed.population(19).interpretation());
  EXPECT_EQ(second.population(1).id(), seed.population(18).id());

  grpc::ClientContext context;
  context.AddMetadata("authorization", "Bearer " + token_);
  population::ExistingPopulationRequest existing;
  existing.set_experiment_id("cpp");
  existing.set_checkpoint_id(second.checkpoint_id());
  population::PopulationResponse again;
  ASSERT_TRUE(stub_->GetPopulation(&context, existing, &again).ok());
  EXPECT_EQ(again.SerializeAsString(), second.SerializeAsString());
}

TEST_F(PopulationClient, ErrorsAreGrpcStatuses) {
  population::PopulationRequest request;
  request.set_experiment_id("cpp");
  population::PopulationResponse response;
  auto missing = next(request, response);
  EXPECT_EQ(missing.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(missing.error_message(), "No experiment params supplied");

  grpc::ClientContext anonymous;
  request.set_config(fixture());
  EXPECT_EQ(stub_->NextPopulation(&anonymous, request, &response).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);

  grpc::ClientContext context;
  context.AddMetadata("authorization", "Bearer " + token_);
  population::ExistingPopulationRequest existing;
  existing.set_experiment_id("cpp");
  existing.set_checkpoint_id("cpp/1/20260101-000000");
  EXPECT_EQ(stub_->GetPopulation(&context, existing, &response).error_code(),
            grpc::StatusCode::NOT_FOUND);
}

}  // namespace
}  // namespace esp
