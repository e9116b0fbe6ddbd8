// The hub's Prometheus metrics (GET /metrics on `http_listen`, docs/metrics.md). Everything
// the database records is read from it at each scrape, so the counters survive restarts; only
// the connected agents and the errors the database does not record live in memory.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>

#include "hub/hub_config.h"
#include "hub/hub_state.h"

namespace outpost::hub {

class HubMetrics {
 public:
  // `config` and `state` must outlive this; `connections` says how many agent connections are
  // open now (called at each scrape).
  HubMetrics(const HubConfig& config, HubState& state, std::function<size_t()> connections);

  // The exposition (format 0.0.4): outpost_hub_link_bytes_sent_total{site},
  // outpost_hub_bytes_saved_total{site}, outpost_hub_transfers{site,state},
  // outpost_hub_last_sync_timestamp_seconds{site}, outpost_hub_last_contact_timestamp_seconds{site},
  // outpost_hub_errors_total{kind}, outpost_hub_delta_cache_hits_total,
  // outpost_hub_delta_cache_misses_total, outpost_hub_connected_agents. Thread-safe.
  std::string Render();

 private:
  // Bytes a registry pull would have cost minus the bundle's, per site, over applied transfers
  // (each bundle head read once, then remembered).
  std::map<std::string, uint64_t> SavedBytes();

  const HubConfig& config_;
  HubState& state_;
  std::function<size_t()> connections_;
  std::mutex mu_;
  std::map<int64_t, uint64_t> saved_;  // transfer id -> bytes saved
};

}  // namespace outpost::hub
