#include "agent/status.h"

#include <nlohmann/json.hpp>

#include <chrono>
#include <sstream>

#include "link/clock.h"
#include "link/units.h"

namespace outpost::agent {
namespace {

uint64_t Received(const TransferRow& r) {
  return r.durable_bytes > r.item.head_bytes ? r.durable_bytes - r.item.head_bytes : 0;
}
uint64_t Payload(const TransferRow& r) { return r.item.file_bytes - r.item.head_bytes; }

std::string UnixUtc(int64_t seconds) { return link::FormatUtcTime(link::WallTime(std::chrono::seconds(seconds))); }

std::string Line(const TransferRow& r) {
  std::ostringstream out;
  out << "  #" << r.item.id << " " << StateName(r.state) << " "
      << (r.item.as.empty() ? r.item.bundle.substr(0, 19) : r.item.as);
  if (r.state == TransferState::kFetching) {
    out << "  " << link::FormatBytes(Received(r)) << " of " << link::FormatBytes(Payload(r));
    if (Payload(r) > 0) out << " (" << Received(r) * 100 / Payload(r) << "%)";
  }
  if (r.state == TransferState::kApplied) out << "  " << r.tag << " " << r.manifest.substr(0, 19);
  if (r.state == TransferState::kApplied || r.state == TransferState::kFailed) {
    out << (r.reported ? "  reported" : "  not yet reported to the hub");
  }
  out << "  " << UnixUtc(r.updated_at);
  if (!r.error.empty()) out << "\n      error: " << r.error;
  return out.str();
}

}  // namespace

AgentStatus CollectAgentStatus(const AgentConfig& config, AgentState& state, int limit) {
  AgentStatus s;
  s.site = config.site;
  s.hub = config.hub.str();
  s.target = config.target_registry.empty() ? config.target.text : "docker://" + config.target_registry;
  s.transfers = state.Recent(limit);
  return s;
}

nlohmann::json AgentStatusJson(const AgentStatus& s) {
  nlohmann::json transfers = nlohmann::json::array();
  for (const TransferRow& r : s.transfers) {
    nlohmann::json j = {{"id", r.item.id},           {"bundle", r.item.bundle},   {"as", r.item.as},
                        {"state", StateName(r.state)}, {"received", Received(r)}, {"payload_bytes", Payload(r)},
                        {"reported", r.reported},      {"updated_at", UnixUtc(r.updated_at)}};
    if (!r.manifest.empty()) j["manifest"] = r.manifest;
    if (!r.tag.empty()) j["tag"] = r.tag;
    if (!r.error.empty()) j["error"] = r.error;
    transfers.push_back(std::move(j));
  }
  return {{"site", s.site}, {"hub", s.hub}, {"target", s.target}, {"transfers", transfers}};
}

std::string AgentStatusText(const AgentStatus& s) {
  std::ostringstream out;
  out << "site " << s.site << ": hub " << s.hub << ", target " << s.target << "\n";
  if (s.transfers.empty()) out << "  nothing received yet\n";
  for (const TransferRow& r : s.transfers) out << Line(r) << "\n";
  return out.str();
}

}  // namespace outpost::agent
