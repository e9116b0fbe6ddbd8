// One HTTP/1.1 connection (plain or TLS) driven synchronously, with a deadline on every network
// operation. Bodies stream in both directions through caller buffers, so a blob of any size
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

// Thrown when a TLS handshake fails for a reason other than an untrusted certificate, e.g. the
// peer speaks plain HTTP. Kind: Network.
class TlsHandshakeError : public Error {
 public:
  explicit TlsHandshakeError(const std::string& message) : Error(Kind::kNetwork, message) {}
};

// A keep-alive connection to one origin (scheme, host, port). Not thread-safe. Errors: Network
// for anything on the wire (refused, reset, timeout, early end of a body), Security for a
// certificate that does not verify.
class HttpConnection {
 public:
  HttpConnection(Url origin, TlsOptions tls, std::chrono::milliseconds timeout);
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
