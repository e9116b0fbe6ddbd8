// `outpost hub status`: what an operator asks first about each site. Read from the hub's state
// (while the daemon runs, too) and its config; nothing here writes.
#pragma once

#include <nlohmann/json_fwd.hpp>

#include <optional>
#include <string>
#include <vector>

#include "hub/hub_config.h"
#include "hub/hub_state.h"
#include "link/clock.h"

namespace outpost::hub {

struct SiteStatus {
  SiteRow row;                          // contact and byte counters
  uint64_t rate_now = 0;                // what its windows allow now (0: closed)
  link::WallTime next_change;           // when that changes (a window opens or closes)
  std::vector<Transfer> open;           // queued and sending, in the order they go out
  std::vector<Transfer> held;           // waiting for `outpost hub approve`, by id (not in `remaining`)
  std::vector<Transfer> recent;         // the last few finished, newest first
  uint64_t remaining = 0;               // payload bytes of `open` the site has not acknowledged
  std::optional<link::WallTime> done;   // when `remaining` is through at its windows' rates
};

// Every configured site (or only `site` when not empty: NotFound naming the configured ones
// otherwise) as of `now`, with up to `recent` finished transfers each.
std::vector<SiteStatus> CollectStatus(const HubConfig& config, HubState& state, link::WallTime now,
                                      const std::string& site = "", int recent = 3);

// The status as one JSON object: {"now": ..., "sites": [{"name", "last_contact", "bytes_sent",
// "bytes_today", "rate_now", "window_changes_at", "remaining", "eta", "transfers": [...]}]};
// `transfers` lists the open ones in the order they go out, then the held, then the recent.
nlohmann::json StatusJson(const std::vector<SiteStatus>& sites, link::WallTime now);

// The status as text for a terminal: one block per site, one line per transfer.
std::string StatusText(const std::vector<SiteStatus>& sites, link::WallTime now);

}  // namespace outpost::hub
