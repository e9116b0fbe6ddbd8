// One HTTP/1.1 connection (plain or TLS) driven synchronously, with a deadline on every network
// operation, a minimum rate for response bodies and, when the caller sets one, a deadline for a
// whole exchange. Bodies stream in both directions through caller buffers, so a blob of any size
// passes in constant memory. Boost.Beast stays inside http.cc.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/error.h"
#include "registry/url.h"

namespace outpost::registry {

using Headers = std::vector<std::pair<std::string, std::string>>;

// The value of the first header called `name` (case-insensitive), or "".
std::string FindHeader(const Headers& headers, std::string_view name);

struct HttpRequest {
  std::string method = "GET";
  Url url;
  Headers headers;
  std::string_view body;  // not owned; sent with Content-Length
  // The whole exchange (sending, the response headers and all of its body) must end within this
  // time of Send; zero: no limit beyond HttpDeadlines (for blob bodies of any size).
  std::chrono::milliseconds deadline{0};
};

struct HttpResponse {
  int status = 0;
  Headers headers;
  std::string header(std::string_view name) const { return FindHeader(headers, name); }
};

// How TLS peers are checked.
struct TlsOptions {
  bool verify = true;    // false: accept any certificate (--tls-verify=false)
  std::string cert_dir;  // *.crt: extra CA certificates; NAME.cert + NAME.key: client identity
};

// How long a peer may take. Each network step (connecting, the TLS handshake, writing a
// request, reading the response headers) must end within `operation`. A response body must
// bring at least `min_rate_bytes` in every `rate_window` spent waiting for it, or end: a peer
// that trickles bytes cannot hold a request open, though each byte would restart `operation`.
// Only time spent waiting for the peer counts, so a slow consumer of the body does not.
struct HttpDeadlines {
  std::chrono::milliseconds operation{std::chrono::seconds(60)};
  std::chrono::milliseconds rate_window{std::chrono::seconds(60)};
  uint64_t min_rate_bytes = 16 << 10;  // 16 KiB a minute: 273 bytes/s
};

// Thrown when a TLS handshake fails for a reason other than an untrusted certificate, e.g. the
// peer speaks plain HTTP. Kind: Network.
class TlsHandshakeError : public Error {
 public:
  explicit TlsHandshakeError(const std::string& message) : Error(Kind::kNetwork, message) {}
};

// A keep-alive connection to one origin (scheme, host, port). Not thread-safe. Errors: Network
// for anything on the wire (refused, reset, a deadline or the minimum rate missed, early end of
// a body), Security for a certificate that does not verify.
class HttpConnection {
 public:
  HttpConnection(Url origin, TlsOptions tls, HttpDeadlines deadlines);
  ~HttpConnection();
  HttpConnection(const HttpConnection&) = delete;
  HttpConnection& operator=(const HttpConnection&) = delete;

  // Sends `request` (connecting first when needed; a stale kept-alive connection is reopened
  // once) and reads the response headers. The caller then reads the body with ReadBody /
  // ReadBodyString / DiscardBody before the next Send. `head`: the response has no body.
  HttpResponse Send(const HttpRequest& request);
  // Reads up to `n` body bytes; 0 at the end of the body.
  size_t ReadBody(uint8_t* buf, size_t n);
  // Reads the rest of the body; throws Corruption beyond `limit` bytes.
  std::string ReadBodyString(size_t limit = 1 << 20);
  // Reads and drops the rest of the body (small bodies), or closes the connection.
  void DiscardBody();
  // Content-Length of the current response, if it had one.
  std::optional<uint64_t> content_length() const;
  const Url& origin() const { return origin_; }
  // Drops the connection (the next Send reconnects).
  void Close();

 private:
  struct Impl;
  Url origin_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace outpost::registry
