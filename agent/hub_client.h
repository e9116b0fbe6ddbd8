// One request and its response at a time over a kept-alive connection to the hub
// (docs/protocol.md): every request carries Outpost-Protocol: 1 and every response must too.
// The connection is opened when a request needs one and dropped on any error, after a body the
// caller stopped reading, or when the hub does not keep it alive.
#pragma once

#include <utility>  // before Asio: its 1.74 awaitable.hpp uses std::exchange unincluded

#include <boost/asio/awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/verb.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "agent/connector.h"
#include "common/error.h"

namespace outpost::agent {

struct HubResponse {
  unsigned status = 0;
  std::string body;                                 // empty when it went to a sink
  std::optional<std::chrono::seconds> retry_after;  // Retry-After, when valid
  std::string content_range;                        // Content-Range, "" when absent
};

// The hub said 503 with a Retry-After: not an error of the link, so no backoff; wait and ask
// again.
class HubBusy : public Error {
 public:
  HubBusy(std::chrono::seconds wait, const std::string& message) : Error(Kind::kNetwork, message), wait_(wait) {}
  std::chrono::seconds wait() const { return wait_; }

 private:
  std::chrono::seconds wait_;
};

// Throws HubBusy for a 503 with Retry-After and NetworkError "hub: WHAT: STATUS: error" for any
// other status outside 2xx.
void ThrowUnlessSuccess(const HubResponse& response, std::string_view what);

// Runs on one executor's thread (all its methods and coroutines).
class HubClient {
 public:
  // Connects a new stream (ConnectToHub).
  using Connector = std::function<boost::asio::awaitable<void>(HubStream&)>;

  // Streams are made with `tls` (which must outlive the client) and connected by `connect`;
  // `authority` ("host:port") goes in the Host header; `stall` bounds every write and read.
  HubClient(boost::asio::ssl::context& tls, Connector connect, std::string authority, std::chrono::milliseconds stall);
  ~HubClient();

  // A request whose response body is small (at most 4 MiB; longer is a NetworkError). The
  // response header may take `header_wait` (a long poll) instead of the stall timeout.
  // Arguments are references (GCC 12 mishandles temporaries in a co_await expression): pass
  // named values that outlive the co_await.
  boost::asio::awaitable<HubResponse> Send(boost::beast::http::verb verb, const std::string& target,
                                           const std::string& body,
                                           std::optional<std::chrono::milliseconds> header_wait = std::nullopt);

  // A GET (with `range`, unless empty) whose 2xx body is handed to `sink` piece by piece as it
  // arrives; when `sink` returns false the rest is not read and the connection is dropped.
  // Bodies of other statuses are read into the response as Send does.
  boost::asio::awaitable<HubResponse> Stream(const std::string& target, const std::string& range,
                                             const std::function<bool(std::string_view)>& sink);

  // Closes the socket: a pending operation fails at once. For shutdown.
  void Close();
  // Forgets the connection (between requests only): the next request dials again.
  void Disconnect() { Drop(); }
  // Connections opened so far (the runner logs each new one).
  uint64_t connections() const { return connections_; }

 private:
  struct Exchange;
  boost::asio::awaitable<HubResponse> Run(Exchange& exchange);
  boost::asio::awaitable<void> EnsureConnected();
  void Drop() { stream_.reset(); }

  boost::asio::ssl::context& tls_;
  Connector connect_;
  std::string authority_;
  std::chrono::milliseconds stall_;
  std::unique_ptr<HubStream> stream_;
  boost::beast::flat_buffer buffer_;
  std::vector<char> slice_;
  uint64_t connections_ = 0;
};

}  // namespace outpost::agent
