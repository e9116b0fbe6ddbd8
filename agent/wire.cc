#include "agent/wire.h"

#include <nlohmann/json.hpp>

#include <charconv>

#include "common/digest.h"
#include "common/error.h"
#include "link/http.h"

namespace outpost::agent {
namespace {

std::optional<uint64_t> ParseNumber(std::string_view s) {
  uint64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

}  // namespace

std::string ConnectRequest(const HostPort& target) {
  const std::string authority = target.host.find(':') != std::string::npos
                                    ? "[" + target.host + "]:" + std::to_string(target.port)
                                    : target.str();
  return "CONNECT " + authority + " HTTP/1.1\r\nHost: " + authority + "\r\n\r\n";
}

void CheckConnectResponse(std::string_view block, const HostPort& proxy, const HostPort& target) {
  std::string_view line = block.substr(0, block.find("\r\n"));
  auto refuse = [&](std::string_view why) {
    return NetworkError("proxy ", proxy.str(), " refused CONNECT ", target.str(), ": ", why);
  };
  if (line.substr(0, 7) != "HTTP/1." || line.size() < 12 || line[8] != ' ') {
    throw refuse("not an HTTP answer (\"" + std::string(line.substr(0, 80)) + "\")");
  }
  std::optional<uint64_t> status = ParseNumber(line.substr(9, 3));
  if (!status || *status < 200 || *status > 299) throw refuse(Trim(line.substr(9)));
}

void CheckProtocolVersion(std::optional<std::string_view> value) {
  const std::string ours = std::to_string(link::kProtocolVersion);
  if (value && Trim(*value) == ours) return;
  const std::string theirs = value ? std::string(Trim(*value)) : std::string("none (no Outpost-Protocol header)");
  throw NetworkError("hub speaks protocol ", theirs, "; this agent speaks ", ours);
}

std::optional<std::chrono::seconds> ParseRetryAfter(std::string_view value) {
  std::optional<uint64_t> s = ParseNumber(Trim(value));
  if (!s) return std::nullopt;
  return std::chrono::seconds(std::min<uint64_t>(*s, 86400));
}

std::optional<ContentRange> ParseContentRange(std::string_view value) {
  value = Trim(value);
  if (value.substr(0, 6) != "bytes ") return std::nullopt;
  value.remove_prefix(6);
  size_t dash = value.find('-'), slash = value.find('/');
  if (dash == std::string_view::npos || slash == std::string_view::npos || slash < dash) return std::nullopt;
  auto first = ParseNumber(value.substr(0, dash));
  auto last = ParseNumber(value.substr(dash + 1, slash - dash - 1));
  auto total = ParseNumber(value.substr(slash + 1));
  if (!first || !last || !total || *last < *first || *last >= *total) return std::nullopt;
  return ContentRange{*first, *last, *total};
}

std::vector<WorkItem> ParseWorkList(std::string_view body) {
  std::vector<WorkItem> items;
  try {
    nlohmann::json j = nlohmann::json::parse(body);
    for (const nlohmann::json& t : j.at("transfers")) {
      WorkItem w;
      w.id = t.at("id").get<int64_t>();
      w.bundle = t.at("bundle").get<std::string>();
      w.head_bytes = t.at("head_bytes").get<uint64_t>();
      w.file_bytes = t.at("file_bytes").get<uint64_t>();
      if (t.contains("as") && !t["as"].is_null()) w.as = t["as"].get<std::string>();
      if (t.contains("keep") && !t["keep"].is_null()) w.keep = t["keep"].get<uint32_t>();
      if (w.head_bytes == 0 || w.file_bytes < w.head_bytes) {
        throw NetworkError("work list: transfer ", std::to_string(w.id), " has impossible sizes");
      }
      items.push_back(std::move(w));
    }
  } catch (const nlohmann::json::exception& e) {
    throw NetworkError("the hub's work list is not the protocol's: ", e.what());
  }
  return items;
}

std::vector<SignatureWanted> ParseWantedSignatures(std::string_view body) {
  std::vector<SignatureWanted> wanted;
  try {
    nlohmann::json j = nlohmann::json::parse(body);
    if (!j.contains("signatures")) return wanted;
    for (const nlohmann::json& s : j.at("signatures")) {
      SignatureWanted w{s.at("image").get<std::string>(), s.at("manifest").get<std::string>()};
      if (!Digest::IsValid(w.manifest)) throw NetworkError("work list: signature of ", w.image, " names no digest");
      wanted.push_back(std::move(w));
    }
  } catch (const nlohmann::json::exception& e) {
    throw NetworkError("the hub's work list is not the protocol's: ", e.what());
  }
  return wanted;
}

std::string ErrorText(std::string_view body) {
  nlohmann::json j = nlohmann::json::parse(body, nullptr, false);
  if (j.is_object() && j.contains("error") && j["error"].is_string()) return j["error"].get<std::string>();
  return std::string(body.substr(0, 200));
}

ResultAnswer ClassifyResultStatus(int status) {
  if (status >= 200 && status < 300) return ResultAnswer::kConfirmed;
  if (status >= 400 && status < 500 && status != 408 && status != 429) return ResultAnswer::kRefused;
  return ResultAnswer::kRetry;
}

std::string AckBody(uint64_t received) { return nlohmann::json{{"received", received}}.dump(); }

std::string ResultBody(const TransferRow& row) {
  if (row.state == TransferState::kApplied) {
    return nlohmann::json{{"state", "applied"}, {"manifest", row.manifest}, {"tag", row.tag}}.dump();
  }
  return nlohmann::json{{"state", "failed"}, {"error", row.error}}.dump();
}

}  // namespace outpost::agent
