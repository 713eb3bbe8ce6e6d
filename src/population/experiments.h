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
// with one "Path:" and "Error:" pair per problem (the gRPC contract's format).
Result<evolution::ExperimentParams> check_experiment(const std::string& id,
                                                     std::string_view params_json);

// Whose records a call reads: the caller's own unless an admin names another owner;
// kPermissionDenied when anyone else does.
Result<std::string> owner_for(const Caller& caller, const std::optional<std::string>& owner);

struct ExperimentView {
  store::Experiment experiment;
  std::optional<store::Checkpoint> latest;  // the newest checkpoint, if any
};

class ExperimentRecords {
 public:
  explicit ExperimentRecords(store::Store& store) : store_(store) {}

  // Validates the id and the parameters ("Path:/Error:" lines, as for generations).
  // Creating the same experiment again returns it with `created` false; other parameters
  // for an existing id are kAlreadyExists.
  Result<store::Experiment> create(const std::string& owner, const std::string& id,
                                   const std::string& params_json, bool& created);
  // `owner` empty: every owner's (for admins).
  Result<store::Page<store::Experiment>> list(const std::string& owner,
                                              const store::PageRequest& page);
  Result<ExperimentView> show(const std::string& owner, const std::string& id);
  // Deletes the records, then the payloads they pointed to.
  Result<bool> remove(const std::string& owner, const std::string& id);
  Result<store::Page<store::Checkpoint>> checkpoints(const std::string& owner,
                                                     const std::string& id,
                                                     const store::PageRequest& page);

 private:
  store::Store& store_;
};

}  // namespace esp::population
