// The text of docs/protocol.md as the agent reads and writes it, kept apart from the sockets so
// it is tested without a network: the proxy's CONNECT exchange, the protocol version header,
// Retry-After, Content-Range and the JSON bodies.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "agent/agent_config.h"
#include "agent/agent_state.h"

namespace outpost::agent {

// "CONNECT host:port HTTP/1.1\r\nHost: host:port\r\n\r\n".
std::string ConnectRequest(const HostPort& target);

// Checks the proxy's answer to CONNECT, `block` being its status line and headers through the
// blank line. Throws NetworkError naming the proxy, the target and the status ("proxy
// p:3128 refused CONNECT hub:8443: 407 Proxy Authentication Required") unless it is a 2xx.
void CheckConnectResponse(std::string_view block, const HostPort& proxy, const HostPort& target);

// Checks a response's Outpost-Protocol value (nullopt: the header is missing). Throws
// NetworkError "hub speaks protocol X; this agent speaks 1" for anything but "1".
void CheckProtocolVersion(std::optional<std::string_view> value);

// A Retry-After value in seconds (0..86400; more is cut to 86400). nullopt for anything else
// (the HTTP-date form is not part of the protocol).
std::optional<std::chrono::seconds> ParseRetryAfter(std::string_view value);

// "bytes FIRST-LAST/TOTAL".
struct ContentRange {
  uint64_t first = 0, last = 0, total = 0;
};
std::optional<ContentRange> ParseContentRange(std::string_view value);

// GET /v1/work's body: the transfers in the order to fetch them. Throws NetworkError naming
// the member for a body that is not the protocol's.
std::vector<WorkItem> ParseWorkList(std::string_view body);

// A signature the hub asks for (GET /v1/work's `signatures`): of the target's image `image`
// ("REPO:TAG", as the inventory named it) at `manifest` ("sha256:<hex>").
struct SignatureWanted {
  std::string image;
  std::string manifest;
};

// GET /v1/work's `signatures` (none when the member is absent: an older hub). Throws
// NetworkError for a member that is not the protocol's.
std::vector<SignatureWanted> ParseWantedSignatures(std::string_view body);

// The `error` member of an error body, or the body itself (cut to 200 bytes) when it has none.
std::string ErrorText(std::string_view body);

// What a status answering POST /v1/transfers/ID/result means for the agent's copy of the result.
enum class ResultAnswer {
  kConfirmed,  // 2xx: the hub recorded it
  kRefused,    // any other 4xx but 408 and 429: asking again cannot change the answer
  kRetry,      // 408, 429, 5xx and the rest: report it again at the next connection
};
ResultAnswer ClassifyResultStatus(int status);

// POST bodies.
std::string AckBody(uint64_t received);
std::string ResultBody(const TransferRow& row);

}  // namespace outpost::agent
