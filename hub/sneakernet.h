// Sneakernet at the hub: `outpost hub export` writes the bundles a site needs as parts an
// operator carries there, and `outpost hub import-report` takes the site's sealed report back
// (docs/sneakernet-format.md). Both work on the same state as the link: export plans exactly as
// the watcher does and carries the site's queued transfers (their ids included, so the agent
// records the same rows and a later link session reports them done); the report updates the
// site's inventory exactly as PUT /v1/inventory does and records results as POST .../result.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "hub/hub_config.h"
#include "link/clock.h"

namespace outpost::hub {

struct ExportOptions {
  std::string site;
  std::vector<std::string> images;   // "REPO:TAG": only these (none: everything the site needs)
  std::filesystem::path out_dir;     // where the parts go (created)
  uint64_t max_part_bytes = UINT64_MAX;  // per part file, header included
};

// One transfer written out.
struct ExportedTransfer {
  int64_t id = 0;
  std::string as_ref;                          // "" when queued without --as
  std::string bundle_digest;
  uint64_t bundle_bytes = 0;
  std::vector<std::filesystem::path> parts;
};

struct ExportResult {
  std::vector<int64_t> planned;               // transfers the planner queued for this export
  std::vector<ExportedTransfer> transfers;
};

// With a source and the site's inventory: plans the site once (as the watcher does, limited to
// `images`), queueing what it lacks; then writes every queued or sending transfer of the site
// (limited to `images` by their `as`) as parts signed with sign_key (unsigned without one).
// Transfers stay queued: whichever of link and file delivers first, the other reports applied.
// Throws InvalidArgument (a site not configured, a bad part size), what planning and writing
// throw.
ExportResult ExportForSite(const HubConfig& config, const ExportOptions& options, const link::Clock& clock);

struct ImportedReport {
  std::string site;
  size_t images = 0, blobs = 0;
  std::vector<int64_t> finished;  // transfers whose result this report recorded
};

// Checks the sealed report `file` against the hub's CA (its certificate must name a configured
// site, and the JSON must be that site's), then replaces the site's inventory and records the
// results of its transfers that have none yet; every check comes first. Throws Security (another
// CA, another site's key, tampered, a report naming another site than its certificate),
// Corruption, NotFound, InvalidArgument (a site not in the config); nothing changes then.
ImportedReport ImportSiteReport(const HubConfig& config, const std::filesystem::path& file, const link::Clock& clock);

}  // namespace outpost::hub
