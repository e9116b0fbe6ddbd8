// The agent's config file (`outpost agent --config FILE`): what site it is, which hub it dials
// and how, where it keeps its state and where it publishes what it receives.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "link/config.h"
#include "link/tls.h"
#include "storage/image_store.h"

namespace outpost::agent {

// A TCP endpoint as "host:port" names it.
struct HostPort {
  std::string host;
  uint16_t port = 0;
  std::string str() const { return host + ":" + std::to_string(port); }
};

struct AgentConfig {
  std::string site;                                   // for logs (the hub knows it from the cert)
  HostPort hub;                                       // `hub: host:port`
  std::filesystem::path state_dir;                    // agent.db and spool/
  link::TlsFiles tls;                                 // `tls: {ca, cert, key}`
  // Where bundles are applied: a store reference, or (target_registry set) only a registry,
  // `docker://HOST[:PORT]`, whose repository and tag each bundle names (IntoReference).
  storage::Reference target;
  std::string target_registry;
  std::optional<std::filesystem::path> verify_key;    // required signer, when set
  std::optional<HostPort> proxy;                      // `proxy:` or $https_proxy / $HTTPS_PROXY
  uint64_t checkpoint_bytes = 64 * 1024;              // spool bytes between two fdatasyncs
  std::chrono::milliseconds stall_timeout{std::chrono::seconds(30)};  // no byte for this long: dead
  std::chrono::milliseconds backoff_max{std::chrono::minutes(5)};     // reconnect delay cap
  std::chrono::seconds poll_wait{55};                 // GET /v1/work?wait=
  // `metrics_listen: HOST:PORT`: plain-HTTP GET /metrics (docs/metrics.md); port 0: an
  // ephemeral one, written to STATE_DIR/metrics_port. None: no listener.
  std::optional<HostPort> metrics_listen;
};

// Reads the agent config from `map` (AllowOnly: any other key is an error naming it and its
// line). `env_proxy` is the https_proxy environment value used when the file has no `proxy`
// ("" or nullopt: none). Throws InvalidArgument "FILE:LINE: `key`: why" for a bad value.
AgentConfig ParseAgentConfig(const link::ConfigMap& map, std::optional<std::string> env_proxy);

// Loads FILE and parses it with the proxy from $https_proxy (or $HTTPS_PROXY).
AgentConfig LoadAgentConfig(const std::filesystem::path& file);

// "host:port" (a port from 1 to 65535, or 0 with `allow_port_zero`; "[v6]:port" for IPv6
// literals). Throws InvalidArgument naming `what`.
HostPort ParseHostPort(std::string_view text, std::string_view what, bool allow_port_zero = false);

// "http://host:port" or "http://host:port/" (the only proxy form the agent speaks: CONNECT over
// plain HTTP). Throws InvalidArgument naming `what`.
HostPort ParseProxyUrl(std::string_view text, std::string_view what);

}  // namespace outpost::agent
