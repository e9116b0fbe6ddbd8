// The agent's Prometheus metrics (agent.yaml `metrics_listen`, GET /metrics, docs/metrics.md):
// read from the agent's database at each scrape, so they survive restarts; errors the database
// does not record are counted in memory since start.
#pragma once

#include <cstdint>
#include <string>

#include "agent/agent_config.h"
#include "agent/agent_state.h"
#include "link/clock.h"
#include "link/plain_http_server.h"

namespace outpost::agent {

// The exposition (format 0.0.4): outpost_agent_bytes_received_total,
// outpost_agent_transfers_total{result="applied"|"failed"}, outpost_agent_transfers_in_progress,
// outpost_agent_last_apply_timestamp_seconds (when something was applied),
// outpost_agent_errors_total{kind}.
std::string AgentMetricsText(AgentState& state);

// The listener: its own connection to STATE_DIR/agent.db and a plain-HTTP server on its own
// thread. Stops (and joins) when destroyed.
class MetricsListener {
 public:
  // Binds config.metrics_listen (which must be set; port 0: ephemeral, written to
  // STATE_DIR/metrics_port). `config` and `clock` must outlive this. Throws NetworkError,
  // InvalidArgument, IOError.
  MetricsListener(const AgentConfig& config, const link::Clock& clock);

  uint16_t port() const { return server_.port(); }
  void Start() { server_.Start(); }
  // Thread-safe, idempotent; joins the thread.
  void Stop() { server_.Stop(); }

 private:
  link::PlainReply Route(const link::PlainRequest& request);

  AgentState state_;
  link::PlainHttpServer server_;
};

}  // namespace outpost::agent
