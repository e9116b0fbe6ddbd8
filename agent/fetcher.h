// One transfer's download: the head (whole), then payload ranges from where the spool is
// durable, until the spool holds the whole bundle file (docs/protocol.md, docs/agent-state.md).
#pragma once

#include <utility>  // before Asio: its 1.74 awaitable.hpp uses std::exchange unincluded

#include <boost/asio/awaitable.hpp>

#include <filesystem>
#include <optional>
#include <string>

#include "agent/agent_config.h"
#include "agent/agent_state.h"
#include "agent/hub_client.h"
#include "protocol/signing.h"

namespace outpost::agent {

// STATE_DIR/spool/<id>.bundle.
std::filesystem::path SpoolPath(const AgentConfig& config, int64_t id);
// "site oslo: transfer 7 (sha256:0123456789ab)": how logs and messages name a transfer.
std::string TransferName(const AgentConfig& config, const WorkItem& item);

class Fetcher {
 public:
  // All must outlive the fetcher; `verify_key` may be null.
  Fetcher(const AgentConfig& config, HubClient& client, AgentState& state, const protocol::SigningKey* verify_key);

  // Fetches `row` (state fetching) until its spool is complete (state received), or until its
  // head fails its checks (state failed, with the message). Acks durable payload bytes after
  // each response. Throws NetworkError / HubBusy (the runner reconnects or waits) and IOError
  // (the spool's disk); the spool is checkpointed whenever a response ends or breaks.
  boost::asio::awaitable<void> Fetch(const TransferRow& row);

 private:
  const AgentConfig& config_;
  HubClient& client_;
  AgentState& state_;
  const protocol::SigningKey* verify_key_;
  // OUTPOST_TEST_CORRUPT_PAYLOAD=N: payload byte N is flipped once as it arrives, beneath TLS,
  // so tests can prove a chunk failing its sha256 is refused and fetched again alone.
  std::optional<uint64_t> corrupt_at_;
};

}  // namespace outpost::agent
