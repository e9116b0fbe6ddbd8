#include "hub/metrics.h"

#include <spdlog/spdlog.h>

#include "common/error.h"
#include "common/file.h"
#include "link/metrics_text.h"
#include "protocol/bundle_file.h"

namespace outpost::hub {
namespace {

constexpr const char* kStates[] = {"queued", "held", "sending", "applied", "failed", "superseded"};

double UnixSeconds(const std::string& utc) {
  return static_cast<double>(std::chrono::duration_cast<std::chrono::seconds>(link::ParseUtcTime(utc).time_since_epoch()).count());
}

// Rows of `sql` as (text of column 0, text of column 1, integer of column 2).
struct Row {
  std::string a, b;
  int64_t n = 0;
};
std::vector<Row> Query(link::Database& db, std::string_view sql) {
  auto lock = db.Lock();
  link::Statement st = db.Prepare(sql);
  std::vector<Row> rows;
  while (st.Step()) rows.push_back({st.Text(0), st.Text(1), st.Int(2)});
  return rows;
}

// The bundle's registry_bytes minus its file size (0 when the bundle is the bigger one).
uint64_t Saved(const std::string& path, uint64_t file_bytes) {
  RandomAccessFile file(path);
  protocol::BundleHead head = protocol::ReadHead(file, "bundle " + path);
  uint64_t registry = head.header().registry_bytes;
  return registry > file_bytes ? registry - file_bytes : 0;
}

}  // namespace

HubMetrics::HubMetrics(const HubConfig& config, HubState& state, std::function<size_t()> connections)
    : config_(config), state_(state), connections_(std::move(connections)) {}

std::map<std::string, uint64_t> HubMetrics::SavedBytes() {
  std::lock_guard lock(mu_);
  std::map<std::string, uint64_t> by_site;
  for (const Row& r : Query(state_.database(), "SELECT site, path, id FROM transfers WHERE state = 'applied'")) {
    auto it = saved_.find(r.n);
    if (it == saved_.end()) {
      std::optional<Transfer> t = state_.Find(r.n);
      try {
        it = saved_.emplace(r.n, Saved(r.b, t ? t->file_bytes : 0)).first;
      } catch (const Error& e) {  // the bundle file is gone or damaged: counted as nothing saved
        spdlog::warn("site {}: transfer {}: cannot read its bundle for the bytes saved: {}", r.a, r.n, e.what());
        it = saved_.emplace(r.n, 0).first;
      }
    }
    by_site[r.a] += it->second;
  }
  return by_site;
}

std::string HubMetrics::Render() {
  link::Database& db = state_.database();
  link::MetricsText m;
  m.Family("outpost_hub_link_bytes_sent_total", "counter", "Head and payload bytes the hub wrote to each site, resends included.");
  for (const SiteConfig& site : config_.sites) {
    m.Sample("outpost_hub_link_bytes_sent_total", {{"site", site.name}}, static_cast<double>(state_.Site(site.name).bytes_sent));
  }
  std::map<std::string, uint64_t> saved = SavedBytes();
  m.Family("outpost_hub_bytes_saved_total", "counter",
           "Bytes a registry pull of the applied images would have cost minus their bundles' bytes.");
  for (const SiteConfig& site : config_.sites) m.Sample("outpost_hub_bytes_saved_total", {{"site", site.name}}, static_cast<double>(saved[site.name]));

  std::map<std::pair<std::string, std::string>, int64_t> depth;
  for (const Row& r : Query(db, "SELECT site, state, COUNT(*) FROM transfers GROUP BY site, state")) depth[{r.a, r.b}] = r.n;
  m.Family("outpost_hub_transfers", "gauge", "Transfers per site and state (queue depth: queued, held, sending).");
  for (const SiteConfig& site : config_.sites) {
    for (const char* state : kStates) {
      m.Sample("outpost_hub_transfers", {{"site", site.name}, {"state", state}}, static_cast<double>(depth[{site.name, state}]));
    }
  }
  std::map<std::string, int64_t> awaited, signed_deltas;
  for (const Row& r : Query(db, "SELECT site, '', SUM(received_at IS NULL AND gave_up_at IS NULL) FROM signatures GROUP BY site")) awaited[r.a] = r.n;
  for (const Row& r : Query(db, "SELECT site, '', SUM(uses) FROM signatures GROUP BY site")) signed_deltas[r.a] = r.n;
  m.Family("outpost_hub_signatures_awaited", "gauge", "Signatures of site images the source no longer holds, asked for and not yet received.");
  for (const SiteConfig& site : config_.sites) m.Sample("outpost_hub_signatures_awaited", {{"site", site.name}}, static_cast<double>(awaited[site.name]));
  m.Family("outpost_hub_signature_deltas_total", "counter", "Transfers diffed against a site's signature instead of a base the hub holds.");
  for (const SiteConfig& site : config_.sites) {
    m.Sample("outpost_hub_signature_deltas_total", {{"site", site.name}}, static_cast<double>(signed_deltas[site.name]));
  }
  m.Family("outpost_hub_last_sync_timestamp_seconds", "gauge", "Unix time of each site's last applied transfer.");
  for (const Row& r : Query(db, "SELECT site, MAX(finished_at), 0 FROM transfers WHERE state = 'applied' GROUP BY site")) {
    m.Sample("outpost_hub_last_sync_timestamp_seconds", {{"site", r.a}}, UnixSeconds(r.b));
  }
  m.Family("outpost_hub_last_contact_timestamp_seconds", "gauge", "Unix time of each site's last valid request.");
  for (const Row& r : Query(db, "SELECT name, last_contact, 0 FROM sites WHERE last_contact IS NOT NULL")) {
    m.Sample("outpost_hub_last_contact_timestamp_seconds", {{"site", r.a}}, UnixSeconds(r.b));
  }
  std::map<std::string, uint64_t> errors = link::ProcessErrors().Snapshot();
  for (const Row& r : Query(db, "SELECT 'transfer_failed', '', COUNT(*) FROM transfers WHERE state = 'failed'")) errors[r.a] += static_cast<uint64_t>(r.n);
  m.Family("outpost_hub_errors_total", "counter",
           "Errors by kind: transfer_failed (from the database) and, since start, refused requests and failed plans.");
  for (const auto& [kind, n] : errors) m.Sample("outpost_hub_errors_total", {{"kind", kind}}, static_cast<double>(n));
  std::map<std::string, uint64_t> counters = state_.Counters();
  m.Family("outpost_hub_delta_cache_hits_total", "counter", "Layer deltas the planner read from the delta cache instead of encoding.");
  m.Sample("outpost_hub_delta_cache_hits_total", {}, static_cast<double>(counters["delta_cache_hits"]));
  m.Family("outpost_hub_delta_cache_misses_total", "counter", "Layer deltas the planner encoded (and stored in the delta cache).");
  m.Sample("outpost_hub_delta_cache_misses_total", {}, static_cast<double>(counters["delta_cache_misses"]));
  m.Family("outpost_hub_connected_agents", "gauge", "Agent connections open now.");
  m.Sample("outpost_hub_connected_agents", {}, static_cast<double>(connections_()));
  return m.str();
}

}  // namespace outpost::hub
