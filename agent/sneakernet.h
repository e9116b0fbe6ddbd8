// Sneakernet at the site: `outpost agent import` applies bundles carried by hand as parts
// (docs/sneakernet-format.md) exactly as if they had come over the link, and `outpost agent
// report` writes the site's sealed report for `outpost hub import-report`.
//
// An import records the hub's transfer the parts name in the agent's state (the same rows a
// link transfer makes), checks the parts' and the bundle's signatures with verify_key, applies
// with the same applier into the same target, and leaves the result unreported, so the next link
// session (or the report) tells the hub. A transfer already applied or failed here is not
// applied again; one the link already received in full is left to the daemon.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "agent/agent_config.h"
#include "link/clock.h"

namespace outpost::agent {

// What an import did with one carried bundle.
struct ImportOutcome {
  enum class Kind {
    kApplied,        // applied now
    kFailed,         // applied now and sync::Apply failed (recorded as the link would)
    kAlreadyDone,    // the transfer was applied or failed here before: nothing changed
    kLeftToLink,     // the link had received all of it already: the daemon applies it
  };
  Kind kind = Kind::kApplied;
  int64_t transfer = 0;
  std::string as;        // "" for none
  std::string bundle;    // "sha256:..."
  std::string manifest;  // applied: the manifest digest, as the state records it
  std::string tag;
  std::string error;     // failed: why
};

// Imports the parts `files` (any order, several bundles at once). Every part's header is
// checked, and every bundle must be for this site, before anything is applied. Throws Security
// (unsigned or another signer, with verify_key), InvalidArgument (a bundle for another site, or
// a transfer id this agent holds for another bundle), NotFound (parts missing: named),
// Corruption (parts damaged: named; a bundle that does not verify), Unsupported, IOError. A
// bundle that throws changes no state and no target.
std::vector<ImportOutcome> ImportParts(const AgentConfig& config, const std::vector<std::filesystem::path>& files,
                                       const link::Clock& clock);

// One line for an operator: "transfer 12 (app:2.0, bundle sha256:0123...): applied manifest ...".
std::string OutcomeLine(const ImportOutcome& outcome);

// The site's report (its target's inventory and its latest transfers' results), sealed with
// its TLS key and certificate (link/sealed_file.h). Throws what listing the target and reading
// the TLS files throw.
std::string MakeSiteReport(const AgentConfig& config, const link::Clock& clock);

}  // namespace outpost::agent
