// URLs as a registry client meets them: absolute http(s) URLs and the relative references
// (paths with a query) that registries put in Location and Link headers.
#pragma once

#include <string>
#include <string_view>

namespace outpost::registry {

struct Url {
  std::string scheme;  // "http" or "https"
  std::string host;    // name or IP literal, without brackets
  std::string port;    // always set: explicit, or 80 / 443 from the scheme
  std::string target;  // path and query, starting with '/'

  // Parses "http(s)://host[:port][/path][?query]". Throws InvalidArgument naming `text`.
  static Url Parse(std::string_view text);
  // Resolves `ref` (absolute URL, or "/path?query") against this URL.
  Url Resolve(std::string_view ref) const;
  // "host:port" as a Host header carries it (the port is left out when it is the default).
  std::string authority() const;
  std::string str() const { return scheme + "://" + authority() + target; }
  // True when both name the same scheme, host and port (one connection serves both).
  bool SameOrigin(const Url& other) const;
};

// Appends "key=value" to `target` with '?' or '&', percent-encoding the value.
std::string AddQuery(std::string target, std::string_view key, std::string_view value);
// Percent-encodes everything but unreserved characters (RFC 3986).
std::string PercentEncode(std::string_view s);

}  // namespace outpost::registry
