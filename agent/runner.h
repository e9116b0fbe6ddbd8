// The agent daemon: dial the hub, take the work list, fetch each transfer into its spool, apply
// it, report the result; on any failure of the link reconnect with backoff, forever, until
// stopped (docs/agent-state.md).
#pragma once

#include <stop_token>

#include "agent/agent_config.h"
#include "link/clock.h"

namespace outpost::agent {

enum class AgentExit {
  kStopped,          // everything durable, nothing running
  kApplyCutShort,    // an apply was still running on its worker thread: the caller must end the
                     // process now; the transfer is still `received` and is applied at next start
};

// Runs the agent until `stop` is requested; then cancels what is in flight, makes the spool
// durable and returns within a few seconds. Throws for what it cannot start with (the state
// database, the TLS files, the verify key) and for internal errors; link, hub and apply errors
// are logged and retried or reported, never thrown.
AgentExit RunAgent(const AgentConfig& config, const link::Clock& clock, std::stop_token stop);

}  // namespace outpost::agent
