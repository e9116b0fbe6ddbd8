#include "agent/metrics.h"

#include <spdlog/spdlog.h>

#include "common/file.h"
#include "link/metrics_text.h"

namespace outpost::agent {
namespace {

// The integer result of a one-value query.
int64_t One(link::Database& db, std::string_view sql) {
  auto lock = db.Lock();
  link::Statement st = db.Prepare(sql);
  return st.Step() ? st.Int(0) : 0;
}

}  // namespace

std::string AgentMetricsText(AgentState& state) {
  link::Database& db = state.database();
  link::MetricsText m;
  m.Family("outpost_agent_bytes_received_total", "counter", "Bundle bytes received from the hub and made durable in the spool.");
  m.Sample("outpost_agent_bytes_received_total", {}, static_cast<double>(One(db, "SELECT COALESCE(SUM(durable_bytes), 0) FROM transfers")));
  m.Family("outpost_agent_transfers_total", "counter", "Transfers finished, by result.");
  const int64_t applied = One(db, "SELECT COUNT(*) FROM transfers WHERE state = 'applied'");
  const int64_t failed = One(db, "SELECT COUNT(*) FROM transfers WHERE state = 'failed'");
  m.Sample("outpost_agent_transfers_total", {{"result", "applied"}}, static_cast<double>(applied));
  m.Sample("outpost_agent_transfers_total", {{"result", "failed"}}, static_cast<double>(failed));
  m.Family("outpost_agent_transfers_in_progress", "gauge", "Transfers being fetched or waiting for their apply.");
  m.Sample("outpost_agent_transfers_in_progress", {},
           static_cast<double>(One(db, "SELECT COUNT(*) FROM transfers WHERE state IN ('fetching', 'received')")));
  m.Family("outpost_agent_last_apply_timestamp_seconds", "gauge", "Unix time of the last successful apply.");
  if (applied > 0) m.Sample("outpost_agent_last_apply_timestamp_seconds", {}, static_cast<double>(One(db, "SELECT MAX(applied_at) FROM applied")));
  std::map<std::string, uint64_t> errors = link::ProcessErrors().Snapshot();
  errors["apply_failed"] += static_cast<uint64_t>(failed);
  m.Family("outpost_agent_errors_total", "counter",
           "Errors by kind: apply_failed (from the database) and, since start, link failures and refused requests.");
  for (const auto& [kind, n] : errors) m.Sample("outpost_agent_errors_total", {{"kind", kind}}, static_cast<double>(n));
  return m.str();
}

MetricsListener::MetricsListener(const AgentConfig& config, const link::Clock& clock)
    : state_(config.state_dir / "agent.db", clock),
      server_("agent metrics", config.metrics_listen->host, config.metrics_listen->port,
              [this](const link::PlainRequest& request) { return Route(request); }) {
  if (config.metrics_listen->port == 0) WriteFileAtomic(config.state_dir / "metrics_port", std::to_string(port()) + "\n");
  spdlog::info("site {}: metrics on http://{}:{}/metrics", config.site, config.metrics_listen->host, port());
}

link::PlainReply MetricsListener::Route(const link::PlainRequest& request) {
  std::string_view target(request.target().data(), request.target().size());
  if (target.substr(0, target.find('?')) == "/metrics" && request.method() == boost::beast::http::verb::get) {
    return {200, std::string(link::kMetricsContentType), AgentMetricsText(state_)};
  }
  return {404, "text/plain; charset=utf-8", "not found (GET /metrics)\n"};
}

}  // namespace outpost::agent
