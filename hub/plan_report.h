// `outpost hub plan`: a dry run of the hub's planner. What each site would be sent now (the
// subscribed images its inventory lacks, whether queued already or not), diffed for real into
// scratch files that are then removed, with the bytes per layer and the time at the site's rate.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "hub/hub_config.h"
#include "link/clock.h"
#include "sync/diff.h"

namespace outpost::hub {

struct ImagePlan {
  std::string ref;                 // REPO:TAG
  std::string manifest;            // the source's manifest digest
  std::vector<std::string> bases;  // manifest digests of the site's images diffed against
  sync::DiffReport report;         // empty when `error` is set
  uint64_t link_bytes = 0;         // LinkBytes(report.bundle_bytes, the site's rate): what crosses the link
  std::string error;               // the diff failed: why
};

struct SitePlan {
  std::string site;
  uint64_t rate = 0;               // bytes per second (link::kUnlimitedRate: none)
  bool has_inventory = false;      // false: the hub plans nothing for it yet
  std::vector<ImagePlan> images;
};

// Plans every site (or only `site`, which must be configured: InvalidArgument otherwise) of
// `config` against its last inventory in the state database. Blocking. Throws what listing the
// source throws; a failed diff is recorded in its ImagePlan.
std::vector<SitePlan> PlanDryRun(const HubConfig& config, const std::optional<std::string>& site, const link::Clock& clock);

// The plans for an operator, one block per site: per image each layer's method and bytes, the
// total against what a registry pull ships, and the time at the site's rate.
std::string PlanText(const std::vector<SitePlan>& plans);
// The same as JSON (a document; its members are documented in README.md, `outpost hub plan`).
std::string PlanJson(const std::vector<SitePlan>& plans);

}  // namespace outpost::hub
