// What both ends of the hub–agent protocol agree on (docs/protocol.md).
#pragma once

#include <chrono>
#include <cstdint>
#include <string_view>

namespace outpost::link {

// The protocol version this build speaks, sent in every request and response.
inline constexpr int kProtocolVersion = 1;
inline constexpr std::string_view kProtocolHeader = "Outpost-Protocol";
// A request's or response's header block larger than this is refused unread (431).
inline constexpr uint32_t kMaxHeaderBytes = 8 * 1024;
// A request body larger than this is refused unread (413). Payload responses are not bodies
// in this sense: the agent reads them into its spool as they come.
inline constexpr uint32_t kMaxBodyBytes = 64 * 1024;
// The one larger request body: an agent's inventory (PUT /v1/inventory), refused (413) above this.
inline constexpr uint32_t kMaxInventoryBytes = 1024 * 1024;
// The largest request body of all: an image block signature the hub asked for
// (PUT /v1/signatures/DIGEST), refused (413) above this. A signature is well under 1% of its
// layers' tars, so 64 MiB covers images of several GiB; the hub holds one such body per
// connection in memory while it checks it.
inline constexpr uint32_t kMaxSignatureBytes = 64 * 1024 * 1024;
// Every read and write that makes no progress for this long ends the connection.
inline constexpr std::chrono::seconds kIoTimeout{30};
// The longest long-poll a hub grants (GET /v1/work?wait=).
inline constexpr std::chrono::seconds kMaxPollWait{60};
// The most link time one payload response covers; the agent asks again after it.
inline constexpr std::chrono::seconds kMaxSliceTime{30};

}  // namespace outpost::link
