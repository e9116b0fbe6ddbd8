#include "registry/auth.h"

#include <openssl/evp.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <nlohmann/json.hpp>

#include "common/error.h"
#include "common/file.h"

namespace outpost::registry {

std::string Base64Encode(std::string_view data) {
  std::string out(4 * ((data.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(data.data()),
                          static_cast<int>(data.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

std::string Base64Decode(std::string_view text) {
  std::string in(text);
  while (!in.empty() && (in.back() == '\n' || in.back() == '\r')) in.pop_back();
  if (in.size() % 4 != 0) throw InvalidArgument("not base64: length ", std::to_string(in.size()));
  std::string out(in.size() / 4 * 3 + 1, '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(in.data()),
                          static_cast<int>(in.size()));
  if (n < 0) throw InvalidArgument("not base64");
  size_t len = static_cast<size_t>(n);
  for (size_t i = in.size(); i > 0 && in[i - 1] == '='; --i) --len;  // EVP keeps pad bytes
  out.resize(len);
  return out;
}

namespace {

Credentials SplitUserPass(const std::string& text, const std::string& what) {
  size_t colon = text.find(':');
  if (colon == std::string::npos || colon == 0) {
    throw InvalidArgument(what, " must be USER:PASS");
  }
  return {text.substr(0, colon), text.substr(colon + 1)};
}

// "https://host:port/v1/" -> "host:port".
std::string AuthKeyHost(std::string key) {
  if (size_t sep = key.find("://"); sep != std::string::npos) key = key.substr(sep + 3);
  return key.substr(0, key.find('/'));
}

std::optional<Credentials> FromAuthFile(const std::string& path, const std::string& host) {
  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(ReadFileToString(path));
  } catch (const nlohmann::json::exception& e) {
    throw InvalidArgument("auth file ", path, " is not valid JSON: ", e.what());
  }
  if (!doc.contains("auths") || !doc["auths"].is_object()) return std::nullopt;
  std::string want = host == "docker.io" ? "index.docker.io" : host;
  for (const auto& [key, entry] : doc["auths"].items()) {
    if (AuthKeyHost(key) != want || !entry.is_object()) continue;
    if (entry.contains("auth") && entry["auth"].is_string()) {
      return SplitUserPass(Base64Decode(entry["auth"].get<std::string>()),
                           "the auth entry for " + host + " in " + path);
    }
    if (entry.contains("username") && entry.contains("password")) {
      if (!entry["username"].is_string() || !entry["password"].is_string()) {
        throw InvalidArgument("the auth entry for ", host, " in ", path, ": username and password must be strings");
      }
      return Credentials{entry["username"].get<std::string>(), entry["password"].get<std::string>()};
    }
  }
  return std::nullopt;
}

}  // namespace

Credentials FindCredentials(const std::string& host, const AccessOptions& options) {
  if (!options.creds.empty()) return SplitUserPass(options.creds, "--creds");
  std::string path = options.authfile;
  if (path.empty()) {
    const char* home = std::getenv("HOME");
    if (home == nullptr) return {};
    path = std::string(home) + "/.docker/config.json";
    std::error_code ec;
    if (!fs::exists(path, ec)) return {};
  }
  return FromAuthFile(path, host).value_or(Credentials{});
}

std::optional<Challenge> ParseChallenge(std::string_view header) {
  size_t i = 0;
  auto skip_space = [&] {
    while (i < header.size() && (header[i] == ' ' || header[i] == '\t')) ++i;
  };
  skip_space();
  Challenge c;
  while (i < header.size() && header[i] != ' ') c.scheme += static_cast<char>(std::tolower(header[i++]));
  if (c.scheme.empty()) return std::nullopt;
  for (;;) {
    skip_space();
    std::string key;
    while (i < header.size() && header[i] != '=' && header[i] != ',') {
      key += static_cast<char>(std::tolower(header[i++]));
    }
    if (i >= header.size() || header[i] != '=') break;
    ++i;
    std::string value;
    if (i < header.size() && header[i] == '"') {
      for (++i; i < header.size() && header[i] != '"'; ++i) {
        if (header[i] == '\\' && i + 1 < header.size()) ++i;
        value += header[i];
      }
      ++i;
    } else {
      while (i < header.size() && header[i] != ',') value += header[i++];
    }
    c.params[key] = value;
    skip_space();
    if (i >= header.size() || header[i] != ',') break;
    ++i;
  }
  return c;
}

std::optional<std::string> TokenCache::Get(const std::string& scopes) {
  std::lock_guard lock(mu_);
  auto it = entries_.find(scopes);
  if (it == entries_.end() || Clock::now() >= it->second.expiry) return std::nullopt;
  return it->second.token;
}

void TokenCache::Put(const std::string& scopes, std::string token, Clock::time_point expiry) {
  std::lock_guard lock(mu_);
  entries_[scopes] = Entry{std::move(token), expiry};
}

void TokenCache::Drop(const std::string& scopes) {
  std::lock_guard lock(mu_);
  entries_.erase(scopes);
}

std::pair<std::string, TokenCache::Clock::time_point> ParseTokenResponse(std::string_view json,
                                                                        std::string_view realm) {
  constexpr int kDefaultLifetimeSeconds = 60;  // Docker token spec: assume 60 s when absent
  constexpr int kEarlySeconds = 10;            // refresh before the registry would refuse it
  constexpr int64_t kLongestLifetimeSeconds = 24 * 3600;  // longer promises are kept for a day
  nlohmann::json doc = nlohmann::json::parse(json, nullptr, false);
  std::string token;
  if (doc.is_object()) {
    for (const char* key : {"token", "access_token"}) {
      if (doc.contains(key) && doc[key].is_string() && !doc[key].get<std::string>().empty()) {
        token = doc[key].get<std::string>();
        break;
      }
    }
  }
  if (token.empty()) throw SecurityError("token service ", std::string(realm), " returned no token");
  int64_t lifetime = kDefaultLifetimeSeconds;
  if (doc.contains("expires_in") && doc["expires_in"].is_number_integer()) {
    // Read wide and clamp: a token service's number must not wrap around into the past.
    lifetime = std::clamp<int64_t>(doc["expires_in"].get<int64_t>(), 0, kLongestLifetimeSeconds);
  }
  int64_t early = std::min<int64_t>(kEarlySeconds, lifetime / 2);
  auto expiry = TokenCache::Clock::now() + std::chrono::seconds(lifetime - early);
  return {token, expiry};
}

}  // namespace outpost::registry
