// A session with one registry: picks https or (where allowed) plain http, authenticates
// (anonymous, basic, bearer tokens from the WWW-Authenticate challenge), retries what is safe to
// retry with backoff and jitter, and follows redirects. Store code (registry_store.h) speaks the
// distribution API through it.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"
#include "registry/auth.h"
#include "registry/http.h"

namespace outpost::registry {

// Knobs with production defaults; tests shrink them. docs/registry.md gives the reasons for the
// limits.
struct ClientOptions {
  HttpDeadlines http;  // per network step, and the minimum rate of a response body
  // A whole request other than a blob download (headers and body of a manifest, a tag page, a
  // token...) must end within this; a blob is held to the minimum rate only, whatever its size.
  std::chrono::milliseconds request_deadline{std::chrono::minutes(10)};
  int max_attempts = 6;                          // per request, first try included; also the
                                                 // breaks of a blob download without progress
  // A blob download that breaks after less than this since the last break has made no progress:
  // its resumes count towards max_attempts (more than this resets the count).
  uint64_t resume_progress_bytes = 1 << 20;
  int max_redirects = 5;                         // per request (blob downloads follow them)
  std::chrono::milliseconds backoff_base{250};   // first retry waits about this long, then x2
  std::chrono::milliseconds backoff_cap{std::chrono::seconds(10)};
  std::chrono::milliseconds retry_after_cap{std::chrono::seconds(60)};  // longest Retry-After obeyed
  size_t chunk_size = 8 << 20;  // upload PATCH size; the client holds one chunk in memory
  int page_size = 1000;         // entries asked for per tag-list / catalog page
};

// One distribution API request.
struct Call {
  std::string method = "GET";
  std::string target;                // "/v2/..." or an absolute URL (from a Location header)
  Headers headers;
  std::string_view body;             // not owned
  std::vector<std::string> scopes;   // bearer scopes, e.g. "repository:library/x:pull"
  bool retry = true;                 // retry connection errors, 5xx and 429
  bool follow_redirects = false;     // follow 3xx (blob GETs); credentials stay behind
  bool blob_body = false;            // the body is a blob of any size: no request deadline
};

// A response whose body is still to be read from `connection`.
struct Reply {
  HttpResponse response;
  HttpConnection* connection = nullptr;
  Url url;  // the URL that answered (after redirects)
  int status() const { return response.status; }
  std::string header(std::string_view name) const { return response.header(name); }
};

class RegistryClient {
 public:
  // `host` is "name[:port]". Credentials are looked up here (FindCredentials).
  RegistryClient(std::string host, const AccessOptions& options, ClientOptions client);
  ~RegistryClient();

  // A client for the same registry sharing credentials, the http/https decision and the token
  // cache, with connections of its own (so a blob can stream while other calls go on).
  std::unique_ptr<RegistryClient> Fork();

  // Sends `call`, authenticating and retrying as set out above. Returns the final response,
  // whatever its status (the caller judges it). Throws Network after the last attempt or after
  // more than max_redirects redirects, Security for TLS and token-service failures (including
  // a token realm that would take credentials from https down to plain http).
  Reply Do(const Call& call);

  // Waits before retry number `retry` (1 = first retry): exponential backoff with jitter, or
  // the response's Retry-After when it asks for longer.
  void Backoff(int retry, const HttpResponse* response) const;

  const std::string& host() const { return host_; }
  const ClientOptions& options() const { return client_; }

 private:
  struct Shared;
  RegistryClient(std::shared_ptr<Shared> shared, std::string host, ClientOptions client);
  void EnsureScheme();
  void Learn(const HttpResponse& response);
  std::string Authorization(const std::vector<std::string>& scopes);
  std::string FetchToken(const std::vector<std::string>& scopes);
  Url FollowRedirect(const Call& call, const Url& from, const HttpResponse& res, int hop) const;
  HttpConnection& ConnectionFor(const Url& url);

  std::shared_ptr<Shared> shared_;
  std::string host_;
  ClientOptions client_;
  std::unique_ptr<HttpConnection> conns_[2];  // [0]: the registry, [1]: a redirect target
};

// True for statuses worth retrying: 408, 429 and 5xx.
bool IsRetryableStatus(int status);
// The wait before retry number `retry`: base * 2^(retry-1), capped, times a jitter in
// [0.5, 1.0); a longer Retry-After ("seconds") wins, up to `retry_after_cap`.
std::chrono::milliseconds BackoffDelay(int retry, const ClientOptions& options,
                                       std::string_view retry_after);
// The error for a failed registry call, naming the registry, repository, what was attempted,
// the HTTP status and the registry's own error code and message (the JSON errors[] body). Kind:
// NotFound for 404, Security for 401/403, Corruption for digest/size/manifest-invalid codes,
// Network otherwise.
Error RegistryError(const std::string& host, const std::string& repository,
                    const std::string& action, int status, std::string_view body);
// The token service URL a bearer challenge's `realm` names, for registry `host` reached at
// `registry` (scheme://host:port). Throws Security when the realm is not an http(s) URL, or is
// plain http while the registry is reached over https: the Basic credentials sent to it, and
// the token it returns, would cross in clear text.
Url TokenRealm(const std::string& host, const Url& registry, const std::string& realm);
// True for 127.0.0.0/8, ::1 and "localhost" (with or without a port).
bool IsLoopbackHost(const std::string& host);

}  // namespace outpost::registry
