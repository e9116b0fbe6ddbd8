// The head of an HTTP CONNECT request, as --connect-proxy reads it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace outpost::linksim {

// The most bytes a CONNECT head (request line, headers, blank line) may take.
inline constexpr size_t kMaxConnectHead = 8 << 10;

struct ConnectTarget {
  std::string host;
  uint16_t port = 0;
};

// Where the head ends in `received` (the index just past "\r\n\r\n"), or nullopt while it has
// not ended yet.
std::optional<size_t> ConnectHeadEnd(std::string_view received);

// Parses a complete head: "CONNECT host:port HTTP/1.x\r\n" then any headers. nullopt when it is
// not such a request.
std::optional<ConnectTarget> ParseConnectHead(std::string_view head);

}  // namespace outpost::linksim
