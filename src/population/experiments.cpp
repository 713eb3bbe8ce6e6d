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
  return Error{Code::kInvalidArgument, "Invalid experiment parameters", std::move(errors)};
}

Result<std::string> owner_for(const Caller& caller, const std::optional<std::string>& owner) {
  if (!owner || *owner == caller.subject) return caller.subject;
  if (!caller.admin)
    return Error{Code::kPermissionDenied,
                 "only esp:admin callers may read another owner's records"};
  return *owner;
}

Result<ExperimentRecords::Created> ExperimentRecords::create(const Caller& caller,
                                                             const std::string& id,
                                                             const std::string& params_json) {
  if (auto checked = check_experiment(id, params_json); !checked.ok()) return checked.error();
  const store::Experiment wanted{.owner = caller.subject,
                                 .id = id,
                                 .params_json = params_json,
                                 .created_at = store::unix_millis()};
  auto stored = store_.experiments->create_if_absent(wanted);
  if (!stored.ok()) return stored.error();
  if (stored->experiment.params_json != params_json) {
    return Error{Code::kAlreadyExists,
                 fmt::format("experiment {} exists with other parameters; choose another id, or "
                             "send changed evolution settings with the next generation",
                             id)};
  }
  return Created{std::move(stored->experiment), stored->inserted};
}

Result<store::Page<store::Experiment>> ExperimentRecords::list(const Caller& caller,
                                                               bool every_owner,
                                                               const store::PageRequest& page) {
  if (every_owner && !caller.admin)
    return Error{Code::kPermissionDenied, "listing every owner's experiments needs esp:admin"};
  return store_.experiments->list(every_owner ? std::string() : caller.subject, page);
}

Result<ExperimentView> ExperimentRecords::show(const Caller& caller,
                                               const std::optional<std::string>& owner,
                                               const std::string& id) {
  auto whose = owner_for(caller, owner);
  if (!whose.ok()) return whose.error();
  auto experiment = store_.experiments->find(*whose, id);
  if (!experiment.ok()) return experiment.error();
  if (!experiment->has_value()) return no_experiment(id);
  auto latest = store_.checkpoints->latest(*whose, id);
  if (!latest.ok()) return latest.error();
  return ExperimentView{std::move(**experiment), std::move(*latest)};
}

Result<bool> ExperimentRecords::remove(const Caller& caller, const std::string& id) {
  auto removed = store_.experiments->remove(caller.subject, id);
  if (!removed.ok()) return removed.error();
  if (!removed->has_value()) return no_experiment(id);
  for (const auto& blob : (*removed)->blob_keys) {
    // The records are gone, so a payload left behind is only wasted space. A CMA-ES
    // checkpoint keeps its state beside its payload (generations.cpp); removing a key
    // that is not there is no error.
    for (const auto& key : {blob, blob + ".strategy"}) {
      if (auto deleted = store_.blobs->remove(key); !deleted.ok())
        log::warn("blob_delete_failed", {{"key", key}, {"detail", deleted.error().message}});
    }
  }
  log::info("experiment_deleted", {{"experiment", id}, {"blobs", (*removed)->blob_keys.size()}});
  return true;
}

Result<std::string> ExperimentRecords::owner_of(const Caller& caller,
                                                const std::optional<std::string>& owner,
                                                const std::string& id) {
  auto whose = owner_for(caller, owner);
  if (!whose.ok()) return whose.error();
  auto experiment = store_.experiments->find(*whose, id);
  if (!experiment.ok()) return experiment.error();
  if (!experiment->has_value()) return no_experiment(id);
  return *whose;
}

Result<store::Page<store::Checkpoint>> ExperimentRecords::checkpoints(
    const Caller& caller, const std::optional<std::string>& owner, const std::string& id,
    const store::PageRequest& page) {
  auto whose = owner_of(caller, owner, id);
  if (!whose.ok()) return whose.error();
  return store_.checkpoints->list(*whose, id, page);
}

Result<std::vector<store::GenerationSummary>> ExperimentRecords::summaries(
    const Caller& caller, const std::optional<std::string>& owner, const std::string& id) {
  auto whose = owner_of(caller, owner, id);
  if (!whose.ok()) return whose.error();
  return store_.checkpoints->summaries(*whose, id);
}

Result<store::Page<store::Job>> ExperimentRecords::operations(
    const Caller& caller, const std::optional<std::string>& owner, const std::string& id,
    const store::PageRequest& page) {
  auto whose = owner_of(caller, owner, id);
  if (!whose.ok()) return whose.error();
  return store_.jobs->list(*whose, id, page);
}

}  // namespace esp::population
