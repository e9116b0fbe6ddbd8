#include "agent/agent_config.h"

#include <charconv>
#include <cstdlib>

#include "common/error.h"
#include "link/http.h"

namespace outpost::agent {
namespace {

// A config value that another parser checks: its errors are re-thrown at the key's line.
template <typename F>
auto AtKey(const link::ConfigMap& map, std::string_view key, F&& parse) {
  try {
    return parse();
  } catch (const Error& e) {
    throw map.ErrorAt(key, e.what());
  }
}

std::optional<std::string> ProxyFromEnvironment() {
  for (const char* name : {"https_proxy", "HTTPS_PROXY"}) {
    if (const char* v = std::getenv(name); v != nullptr && *v != '\0') return std::string(v);
  }
  return std::nullopt;
}

}  // namespace

HostPort ParseHostPort(std::string_view text, std::string_view what, bool allow_port_zero) {
  auto bad = [&] {
    return InvalidArgument(what, " \"", text, "\" is not HOST:PORT (a port from 1 to 65535)");
  };
  size_t colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0) throw bad();
  std::string_view host = text.substr(0, colon), port = text.substr(colon + 1);
  if (host.front() == '[') {
    if (host.size() < 3 || host.back() != ']') throw bad();
    host = host.substr(1, host.size() - 2);
  } else if (host.find(':') != std::string_view::npos) {
    throw bad();
  }
  unsigned value = 0;
  auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (ec != std::errc() || end != port.data() + port.size() || (value == 0 && !allow_port_zero) || value > 65535) throw bad();
  return HostPort{std::string(host), static_cast<uint16_t>(value)};
}

HostPort ParseProxyUrl(std::string_view text, std::string_view what) {
  constexpr std::string_view kScheme = "http://";
  if (text.substr(0, kScheme.size()) != kScheme) {
    throw InvalidArgument(what, " \"", text, "\" is not http://HOST:PORT (the agent tunnels through HTTP CONNECT)");
  }
  std::string_view rest = text.substr(kScheme.size());
  if (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
  return ParseHostPort(rest, what);
}

AgentConfig ParseAgentConfig(const link::ConfigMap& map, std::optional<std::string> env_proxy) {
  map.AllowOnly({"site", "hub", "state_dir", "tls", "target", "verify_key", "proxy", "checkpoint",
                 "stall_timeout", "backoff_max", "poll_wait", "metrics_listen"});
  AgentConfig c;
  c.site = map.String("site");
  c.hub = AtKey(map, "hub", [&] { return ParseHostPort(map.String("hub"), "hub"); });
  c.state_dir = map.Path("state_dir");
  link::ConfigMap tls = map.Map("tls");
  tls.AllowOnly({"ca", "cert", "key"});
  c.tls = {tls.Path("ca"), tls.Path("cert"), tls.Path("key")};
  const std::string target = map.String("target");
  if (target.starts_with("docker://") && target.find('/', 9) == std::string::npos) {
    c.target_registry = target.substr(9);
    AtKey(map, "target", [&] { return storage::Reference::Parse(target + "/check"); });
  } else {
    c.target = AtKey(map, "target", [&] { return storage::Reference::Parse(target); });
  }
  c.verify_key = map.OptionalPath("verify_key");
  if (std::optional<std::string> proxy = map.OptionalString("proxy")) {
    c.proxy = AtKey(map, "proxy", [&] { return ParseProxyUrl(*proxy, "proxy"); });
  } else if (env_proxy && !env_proxy->empty()) {
    c.proxy = ParseProxyUrl(*env_proxy, "environment variable https_proxy");
  }
  if (std::optional<uint64_t> bytes = map.OptionalBytes("checkpoint")) {
    if (*bytes < 4096 || *bytes > (uint64_t{1} << 30)) throw map.ErrorAt("checkpoint", "must be from 4KiB to 1GiB");
    c.checkpoint_bytes = *bytes;
  }
  if (auto d = map.OptionalDuration("stall_timeout")) {
    if (d->count() <= 0) throw map.ErrorAt("stall_timeout", "must be more than 0");
    c.stall_timeout = *d;
  }
  if (auto d = map.OptionalDuration("backoff_max")) {
    if (*d < std::chrono::seconds(1)) throw map.ErrorAt("backoff_max", "must be at least 1s");
    c.backoff_max = *d;
  }
  if (auto d = map.OptionalDuration("poll_wait")) {
    if (d->count() < 0 || *d > link::kMaxPollWait) throw map.ErrorAt("poll_wait", "must be from 0s to 60s");
    c.poll_wait = std::chrono::duration_cast<std::chrono::seconds>(*d);
  }
  if (map.Has("metrics_listen")) {
    c.metrics_listen = AtKey(map, "metrics_listen", [&] { return ParseHostPort(map.String("metrics_listen"), "metrics_listen", true); });
  }
  return c;
}

AgentConfig LoadAgentConfig(const std::filesystem::path& file) {
  return ParseAgentConfig(link::ConfigMap::Load(file), ProxyFromEnvironment());
}

}  // namespace outpost::agent
