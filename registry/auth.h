// Registry authentication: where credentials come from, what a WWW-Authenticate challenge says,
// and the bearer tokens a token service hands out (cached until they expire).
#pragma once

#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace outpost::registry {

// How to reach and authenticate to registries (the CLI's --creds, --authfile, --cert-dir and
// --tls-verify; a daemon's configuration).
struct AccessOptions {
  std::string creds;               // USER:PASS
  std::string authfile;            // Docker config.json
  std::string cert_dir;            // CA certificates (*.crt) and client identities (NAME.cert + NAME.key)
  std::optional<bool> tls_verify;  // unset: verify, and plain HTTP only to loopback
};

struct Credentials {
  std::string username;
  std::string password;
  bool empty() const { return username.empty() && password.empty(); }
};

// Credentials for registry `host` ("name[:port]"), first found wins: options.creds
// ("USER:PASS"), then options.authfile, else $HOME/.docker/config.json ("auths" entries keyed
// by host, optionally with a scheme and path; "auth" is base64 "USER:PASS"). No credentials is
// not an error (anonymous). Throws InvalidArgument for a malformed --creds or auth file.
Credentials FindCredentials(const std::string& host, const AccessOptions& options);

// The first challenge of a WWW-Authenticate header: scheme ("basic" or "bearer", lower case) and
// its parameters (realm, service, scope, error...). nullopt when the header is empty/garbled.
struct Challenge {
  std::string scheme;
  std::map<std::string, std::string> params;
  std::string param(const std::string& key) const {
    auto it = params.find(key);
    return it == params.end() ? "" : it->second;
  }
};
std::optional<Challenge> ParseChallenge(std::string_view header);

std::string Base64Encode(std::string_view data);
// Throws InvalidArgument for text that is not base64.
std::string Base64Decode(std::string_view text);

// Bearer tokens by scope set, shared by every connection to one registry. Thread-safe.
class TokenCache {
 public:
  using Clock = std::chrono::steady_clock;
  // The cached token for `scopes`, if it has not expired.
  std::optional<std::string> Get(const std::string& scopes);
  void Put(const std::string& scopes, std::string token, Clock::time_point expiry);
  void Drop(const std::string& scopes);

 private:
  struct Entry {
    std::string token;
    Clock::time_point expiry;
  };
  std::mutex mu_;
  std::map<std::string, Entry> entries_;
};

// Reads a token service's JSON answer: "token" (or "access_token") and "expires_in" seconds
// (60 when absent, as the Docker token spec says). The expiry returned is pulled up to 10 s
// early, so a token is not used just as it lapses.
// Throws Security naming `realm` when the answer holds no token.
std::pair<std::string, TokenCache::Clock::time_point> ParseTokenResponse(std::string_view json,
                                                                        std::string_view realm);

}  // namespace outpost::registry
