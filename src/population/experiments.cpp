#include "population/experiments.h"

#include <fmt/format.h>

#include "evolution/params.h"
#include "observability/log.h"

namespace esp::population {
namespace {

Error no_experiment(const std::string& id) {
  return Error{Code::kNotFound, "no experiment " + id};
}

}  // namespace

Result<evolution::ExperimentParams> check_experiment(const std::string& id,
                                                     std::string_view params_json) {
  auto report = evolution::check_params(params_json);
  auto errors = report.errors;
  if (report.params && !evolution::valid_experiment_id(id))
    errors.push_back({"experiment_id", "must be 1 to 128 letters, digits, '-', '_' or '.'"});
  if (errors.empty()) return std::move(*report.params);
  std::string message = "Invalid experiment parameters";
  for (const auto& issue : errors)
    message += fmt::format("\nPath: {}\nError: {}", issue.path, issue.reason);
  return Error{Code::kInvalidArgument, message};
}

Result<std::string> owner_for(const Caller& caller, const std::optional<std::string>& owner) {
  if (!owner || *owner == caller.subject) return caller.subject;
  if (!caller.admin)
    return Error{Code::kPermissionDenied,
                 "only esp:admin callers may read another owner's records"};
  return *owner;
}

Result<store::Experiment> ExperimentRecords::create(const std::string& owner, const std::string& id,
                                                    const std::string& params_json, bool& created) {
  if (auto checked = check_experiment(id, params_json); !checked.ok()) return checked.error();
  const store::Experiment wanted{
      .owner = owner, .id = id, .params_json = params_json, .created_at = store::unix_millis()};
  auto stored = store_.experiments->create_if_absent(wanted);
  if (!stored.ok()) return stored.error();
  created = stored->inserted;
  if (stored->experiment.params_json != params_json) {
    return Error{Code::kAlreadyExists,
                 fmt::format("experiment {} exists with other parameters; choose another id, or "
                             "send changed evolution settings with the next generation",
                             id)};
  }
  return std::move(stored->experiment);
}

Result<store::Page<store::Experiment>> ExperimentRecords::list(const std::string& owner,
                                                               const store::PageRequest& page) {
  return store_.experiments->list(owner, page);
}

Result<ExperimentView> ExperimentRecords::show(const std::string& owner, const std::string& id) {
  auto experiment = store_.experiments->find(owner, id);
  if (!experiment.ok()) return experiment.error();
  if (!experiment->has_value()) return no_experiment(id);
  auto latest = store_.checkpoints->latest(owner, id);
  if (!latest.ok()) return latest.error();
  return ExperimentView{std::move(**experiment), std::move(*latest)};
}

Result<bool> ExperimentRecords::remove(const std::string& owner, const std::string& id) {
  auto removed = store_.experiments->remove(owner, id);
  if (!removed.ok()) return removed.error();
  if (!removed->has_value()) return no_experiment(id);
  for (const auto& key : (*removed)->blob_keys) {
    // The records are gone, so a payload left behind is only wasted space.
    if (auto deleted = store_.blobs->remove(key); !deleted.ok())
      log::warn("blob_delete_failed", {{"key", key}, {"detail", deleted.error().message}});
  }
  log::info("experiment_deleted", {{"experiment", id}, {"blobs", (*removed)->blob_keys.size()}});
  return true;
}

Result<store::Page<store::Checkpoint>> ExperimentRecords::checkpoints(
    const std::string& owner, const std::string& id, const store::PageRequest& page) {
  auto experiment = store_.experiments->find(owner, id);
  if (!experiment.ok()) return experiment.error();
  if (!experiment->has_value()) return no_experiment(id);
  return store_.checkpoints->list(owner, id, page);
}

}  // namespace esp::population
