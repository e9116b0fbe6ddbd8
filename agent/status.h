// `outpost agent status`: what the site's operator asks first: what is arriving, how far it is,
// what was applied and what failed and why. Read from the agent's state (also while it runs).
#pragma once

#include <nlohmann/json_fwd.hpp>

#include <string>
#include <vector>

#include "agent/agent_config.h"
#include "agent/agent_state.h"

namespace outpost::agent {

struct AgentStatus {
  std::string site;
  std::string hub;
  std::string target;
  std::vector<TransferRow> transfers;  // in progress first, then the most recent
};

// Reads the state at config.state_dir (up to `limit` transfers).
AgentStatus CollectAgentStatus(const AgentConfig& config, AgentState& state, int limit = 10);

// {"site", "hub", "target", "transfers": [{"id", "bundle", "as", "state", "received",
// "payload_bytes", "reported", "manifest", "tag", "error", "updated_at"}]}
nlohmann::json AgentStatusJson(const AgentStatus& status);

// For a terminal: one line per transfer, its error below it.
std::string AgentStatusText(const AgentStatus& status);

}  // namespace outpost::agent
