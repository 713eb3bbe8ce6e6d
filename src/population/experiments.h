// The population service's experiment records as callers see them: create, list, show,
// delete, and the checkpoints of one. An experiment belongs to its creator; other
// callers get kNotFound, never a hint that it exists. esp:admin callers may read any.
#pragma once

#include <optional>
#include <string>

#include "core/error.h"
#include "evolution/params.h"
#include "store/store.h"

namespace esp::population {

struct Caller {
  std::string subject;  // owner of the experiments it creates
  bool admin = false;   // may read every owner's records
};

// The parameters, then the id: the parameters when both are valid, else kInvalidArgument
// with one issue per problem.
Result<evolution::ExperimentParams> check_experiment(const std::string& id,
                                                     std::string_view params_json);

// The one ownership rule: a call reads the caller's own records unless an esp:admin
// caller names another owner; kPermissionDenied when anyone else does. Writes are always
// the caller's own.
Result<std::string> owner_for(const Caller& caller, const std::optional<std::string>& owner);

struct ExperimentView {
  store::Experiment experiment;
  std::optional<store::Checkpoint> latest;  // the newest checkpoint, if any
};

class ExperimentRecords {
 public:
  explicit ExperimentRecords(store::Store& store) : store_(store) {}

  struct Created {
    store::Experiment experiment;
    bool created = false;  // false: it existed with these parameters already
  };
  // Validates the id and the parameters (issues as for generations). Other parameters
  // for an existing id are kAlreadyExists.
  Result<Created> create(const Caller& caller, const std::string& id,
                         const std::string& params_json);
  // The caller's experiments, or with `every_owner` (admins only) everyone's.
  Result<store::Page<store::Experiment>> list(const Caller& caller, bool every_owner,
                                              const store::PageRequest& page);
  Result<ExperimentView> show(const Caller& caller, const std::optional<std::string>& owner,
                              const std::string& id);
  // Deletes the caller's records, then the payloads they pointed to.
  Result<bool> remove(const Caller& caller, const std::string& id);
  Result<store::Page<store::Checkpoint>> checkpoints(const Caller& caller,
                                                     const std::optional<std::string>& owner,
                                                     const std::string& id,
                                                     const store::PageRequest& page);
  // Every checkpoint's summary of the generation it was bred from, oldest first.
  Result<std::vector<store::GenerationSummary>> summaries(const Caller& caller,
                                                          const std::optional<std::string>& owner,
                                                          const std::string& id);
  // The experiment's generation operations, newest first.
  Result<store::Page<store::Job>> operations(const Caller& caller,
                                             const std::optional<std::string>& owner,
                                             const std::string& id, const store::PageRequest& page);

 private:
  // The owner whose experiment `id` the caller reads (owner_for), once it is known to
  // exist: kNotFound otherwise, as for an id that was never made.
  Result<std::string> owner_of(const Caller& caller, const std::optional<std::string>& owner,
                               const std::string& id);

  store::Store& store_;
};

}  // namespace esp::population
