#include "cli/commands.h"

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <fstream>
#include <iostream>
#include <sstream>

#include "cli/run.h"
#include "cli/server.h"
#include "cli/tokens.h"
#include "codec/population_json.h"
#include "core/percent_encode.h"
#include "core/prompt.h"

namespace esp::cli {
namespace {

using Json = nlohmann::json;

struct Failure {
  std::string message;
};

template <typename T>
T must(Result<T> result) {
  if (!result.ok()) throw Failure{result.error().message};
  return std::move(*result);
}

std::string read_file(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) throw Failure{"cannot read " + path};
  std::stringstream bytes;
  bytes << file.rdbuf();
  return bytes.str();
}

void write_file(const std::string& path, const std::string& text) {
  std::ofstream file(path, std::ios::binary);
  file << text;
  if (!file) throw Failure{"cannot write " + path};
}

std::string read_password() {
  std::string password = read_secret_line("Password: ");
  if (password.empty()) throw Failure{"no password given"};
  return password;
}

std::string expiry_text(const Token& token) {
  if (token.expires_at == 0) return "no expiry given";
  return fmt::format("expires {:%Y-%m-%d %H:%M:%S} UTC",
                     fmt::gmtime(static_cast<std::time_t>(token.expires_at)));
}

void print_population(const ::population::PopulationResponse& population) {
  std::cout << "individuals:" << population.population_size() << "\n"
            << "generation:" << population.generation_count() << "\n"
            << "checkpoint_id:" << population.checkpoint_id() << std::endl;
}

void save_population(const std::string& path, const std::string& experiment_id,
                     const ::population::PopulationResponse& population) {
  if (!path.empty())
    write_file(path, codec::population_json(experiment_id, population).dump(2) + "\n");
}

struct Arguments {
  Connection connection;
  std::string email;
  std::string client_id, client_secret, token_url, audience;
  bool print_token = false;
  std::string version = "v1", experiment_id, params_file, evaluated_file, output, checkpoint_id;
  std::string id;
  double wait_s = 60;
  std::string run_params, domain, resume, output_dir;
  int generations = 0;
  std::int64_t max_evaluations = 0;
  bool list_domains = false;
};

void add_connection_options(CLI::App& app, Connection& c) {
  app.add_option("--host", c.host, "espd host")->envname("ESP_HOST")->capture_default_str();
  app.add_option("--port", c.port, "espd gRPC port")->envname("ESP_PORT")->capture_default_str();
  app.add_flag("--tls", c.tls, "gRPC over TLS");
  app.add_option("--ca-file", c.ca_file, "PEM roots to verify the server with --tls");
  // The ESP SDK's test client spells its options with underscores (and the token as
  // --auth0_token): its command lines work unchanged.
  app.add_option("--ssl-host-override,--ssl_host_override", c.ssl_host_override,
                 "the name the server's certificate is for, when --host is an address (implies "
                 "--tls)");
  app.add_option("--url", c.url, "espd REST base URL (default http://<host>:8080)")
      ->envname("ESP_URL");
  app.add_option("--token,--auth0_token", c.token,
                 "bearer token (default: the one cached by login/token)")
      ->envname("ESP_TOKEN");
}

Server connect(const Arguments& a) {
  return must(Server::connect(a.connection, TokenCache(TokenCache::default_path())));
}

void login_command(const Arguments& a) {
  const TokenCache cache(TokenCache::default_path());
  auto token = must(login(a.connection.rest_url(), a.email, read_password()));
  must(cache.store(a.connection.rest_url(), token));
  std::cerr << fmt::format("logged in as {} at {} ({}); token cached in {}\n", a.email,
                           a.connection.rest_url(), expiry_text(token),
                           TokenCache::default_path().string());
}

void token_command(const Arguments& a) {
  const TokenCache cache(TokenCache::default_path());
  const std::string url =
      a.token_url.empty() ? a.connection.rest_url() + "/oauth/token" : a.token_url;
  auto token = must(client_credentials(url, a.client_id, a.client_secret, a.audience));
  must(cache.store(a.connection.rest_url(), token));
  if (a.print_token) std::cout << token.access_token << std::endl;
  std::cerr << fmt::format("token for {} cached ({})\n", a.connection.rest_url(),
                           expiry_text(token));
}

void next_population_command(const Arguments& a) {
  ::population::PopulationRequest request;
  request.set_version(a.version);
  request.set_experiment_id(a.experiment_id);
  request.set_config(read_file(a.params_file));
  if (!a.evaluated_file.empty()) {
    const auto json = Json::parse(read_file(a.evaluated_file), nullptr, false);
    if (json.is_discarded()) throw Failure{a.evaluated_file + " is not JSON"};
    auto evaluated = must(codec::population_from_json(json));
    evaluated.clear_evaluation_stats();
    *request.mutable_evaluated_population_response() = std::move(evaluated);
  }
  auto server = connect(a);
  auto population = must(server.next_population(request));
  print_population(population);
  save_population(a.output, a.experiment_id, population);
}

void get_population_command(const Arguments& a) {
  auto server = connect(a);
  auto population = must(server.get_population(a.experiment_id, a.checkpoint_id));
  print_population(population);
  save_population(a.output, a.experiment_id, population);
}

void print_json(const Json& json) {
  std::cout << json.dump(2) << std::endl;
}

void list_experiments(const Arguments& a) {
  auto server = connect(a);
  std::string token;
  do {
    auto page = must(server.rest(
        "GET", "/v1/experiments?page_size=500" + (token.empty() ? "" : "&page_token=" + token)));
    for (const auto& e : page["experiments"])
      std::cout << fmt::format("{}\t{}\n", e.value("id", ""), e.value("created_at", ""));
    token = page.value("next_page_token", "");
  } while (!token.empty());
}

void operation_wait(const Arguments& a) {
  auto server = connect(a);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(a.wait_s);
  for (;;) {
    const double left =
        std::chrono::duration<double>(deadline - std::chrono::steady_clock::now()).count();
    // 50 s, not espd's 60 s maximum: a load balancer with the common 60 s idle timeout
    // would cut a poll that stays silent for the whole minute.
    auto operation =
        must(server.rest("GET", fmt::format("/v1/operations/{}?wait={:.0f}", percent_encode(a.id),
                                            std::clamp(left, 0.0, 50.0))));
    const std::string status = operation.value("status", "");
    if (status == "failed") {
      throw Failure{"operation failed: " +
                    operation.value("error", Json::object()).value("message", std::string())};
    }
    if (status == "succeeded" || status == "cancelled" || left <= 0) {
      print_json(operation);
      if (status != "succeeded" && status != "cancelled")
        throw Failure{"operation " + a.id + " is still " + status};
      return;
    }
  }
}

void run_command(const Arguments& a) {
  if (a.list_domains) {
    for (const auto& domain : all_domains())
      std::cout << fmt::format("{:<10} {}\n", domain->name(), domain->description());
    return;
  }
  if (a.run_params.empty() || a.domain.empty())
    throw Failure{"esp run needs a parameters file and --domain (see --list-domains)"};
  auto domain = find_domain(a.domain);
  if (!domain) throw Failure{"no domain named " + a.domain + " (see esp run --list-domains)"};
  RunOptions options{.params_json = read_file(a.run_params),
                     .experiment_id = a.experiment_id,
                     .generations = a.generations,
                     .max_evaluations = a.max_evaluations,
                     .resume = a.resume,
                     .output_dir = a.output_dir,
                     .terminal = ::isatty(STDOUT_FILENO) != 0};
  if (options.experiment_id.empty() && !options.resume.empty())
    options.experiment_id = options.resume.substr(0, options.resume.find('/'));
  if (options.experiment_id.empty()) {
    options.experiment_id = fmt::format(
        "{}-{:%Y%m%d-%H%M%S}", domain->name(),
        fmt::gmtime(std::chrono::system_clock::to_time_t(std::chrono::system_clock::now())));
  }
  if (options.output_dir.empty()) options.output_dir = "esp-run-" + options.experiment_id;
  auto server = connect(a);
  auto summary = must(run_experiment(server, *domain, options, std::cout));
  std::cout << fmt::format(
      "experiment {} finished at generation {} (checkpoint {})\n{}: {:.4g} (target {:.4g}: {})\n"
      "wrote {}/stats.csv, fitness.svg and summary.json\n",
      options.experiment_id, summary.generation, summary.last_checkpoint,
      summary.validation.measure, summary.validation.value, summary.validation.target,
      summary.validation.met ? "met" : "not met", options.output_dir.string());
}

}  // namespace

int run_command_line(int argc, char** argv) {
  CLI::App app{
      "esp: the command-line client of espd (Evolutionary Surrogate-assisted Prescription)"};
  app.require_subcommand(1);
  app.fallthrough();  // connection options before or after the subcommand
  Arguments a;
  add_connection_options(app, a.connection);

  auto* login_cmd =
      app.add_subcommand("login", "Get a token with an email and password (prompted)");
  login_cmd->add_option("--email", a.email, "account email")->required();

  auto* token_cmd = app.add_subcommand("token", "Get a token with OAuth2 client credentials");
  token_cmd->add_option("--client-id", a.client_id)->required();
  token_cmd->add_option("--client-secret", a.client_secret)
      ->required()
      ->envname("ESP_CLIENT_SECRET");
  token_cmd->add_option("--token-url", a.token_url, "token endpoint (default <url>/oauth/token)");
  token_cmd->add_option("--audience", a.audience, "audience to ask for (Auth0)");
  token_cmd->add_flag("--print", a.print_token, "also print the token on stdout");

  auto* next_cmd = app.add_subcommand("next-population", "Ask for the seed or the next generation");
  next_cmd->add_option("--version", a.version)->capture_default_str();
  next_cmd->add_option("--experiment-id,--experiment_id", a.experiment_id)->required();
  next_cmd->add_option("--experiment-params-file,--experiment_params_file", a.params_file)
      ->required()
      ->check(CLI::ExistingFile);
  next_cmd
      ->add_option("--evaluated-population,--evaluated_population", a.evaluated_file,
                   "population JSON with metrics filled in (from --output)")
      ->check(CLI::ExistingFile);
  next_cmd->add_option("--output", a.output, "save the population as JSON");

  auto* get_cmd = app.add_subcommand("get-population", "Fetch a checkpoint's population again");
  get_cmd->add_option("--experiment-id,--experiment_id", a.experiment_id)->required();
  get_cmd->add_option("--checkpoint-id,--checkpoint_id", a.checkpoint_id)->required();
  get_cmd->add_option("--output", a.output, "save the population as JSON");

  auto* experiments = app.add_subcommand("experiments", "Your experiments");
  experiments->require_subcommand(1);
  auto* list = experiments->add_subcommand("list", "List them");
  auto* show = experiments->add_subcommand("show", "Show one");
  show->add_option("id", a.id)->required();
  auto* remove =
      experiments->add_subcommand("delete", "Delete one, its checkpoints and operations");
  remove->add_option("id", a.id)->required();

  auto* operations = app.add_subcommand("operations", "Generation operations");
  operations->require_subcommand(1);
  auto* op_show = operations->add_subcommand("show", "Show one");
  op_show->add_option("id", a.id)->required();
  auto* op_wait = operations->add_subcommand("wait", "Wait for one to end");
  op_wait->add_option("id", a.id)->required();
  op_wait->add_option("--timeout", a.wait_s, "seconds")->capture_default_str();
  auto* op_cancel = operations->add_subcommand("cancel", "Cancel one");
  op_cancel->add_option("id", a.id)->required();

  auto* run_cmd = app.add_subcommand("run", "Run a whole experiment in a built-in domain");
  run_cmd->add_option("params", a.run_params, "experiment parameters file")
      ->check(CLI::ExistingFile);
  run_cmd->add_option("--domain", a.domain, "built-in domain (see --list-domains)");
  run_cmd->add_option("--generations", a.generations, "last generation (default: nb_generations)");
  run_cmd
      ->add_option("--max-evaluations", a.max_evaluations,
                   "stop once this many candidates are evaluated (default: no limit)")
      ->check(CLI::NonNegativeNumber);
  run_cmd->add_option("--experiment-id", a.experiment_id, "default <domain>-<time>");
  run_cmd->add_option("--resume", a.resume, "continue from this checkpoint id");
  run_cmd->add_option("--output-dir", a.output_dir, "default esp-run-<experiment id>");
  run_cmd->add_flag("--list-domains", a.list_domains, "describe the built-in domains");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  try {
    if (login_cmd->parsed()) login_command(a);
    if (token_cmd->parsed()) token_command(a);
    if (next_cmd->parsed()) next_population_command(a);
    if (get_cmd->parsed()) get_population_command(a);
    if (list->parsed()) list_experiments(a);
    if (show->parsed())
      print_json(must(connect(a).rest("GET", "/v1/experiments/" + percent_encode(a.id))));
    if (remove->parsed()) {
      must(connect(a).rest("DELETE", "/v1/experiments/" + percent_encode(a.id)));
      std::cerr << "deleted experiment " << a.id << "\n";
    }
    if (op_show->parsed())
      print_json(must(connect(a).rest("GET", "/v1/operations/" + percent_encode(a.id))));
    if (op_wait->parsed()) operation_wait(a);
    if (op_cancel->parsed())
      print_json(
          must(connect(a).rest("POST", "/v1/operations/" + percent_encode(a.id) + ":cancel")));
    if (run_cmd->parsed()) run_command(a);
  } catch (const Failure& failure) {
    std::cerr << "esp: " << failure.message << std::endl;
    return 1;
  }
  return 0;
}

}  // namespace esp::cli
