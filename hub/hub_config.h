// The hub's config file (hub.yaml): where it listens, its state, its TLS files, its sites with
// their sync windows and rate caps. Every error names the file, the line and the key.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "link/config.h"
#include "link/schedule.h"
#include "link/tls.h"

namespace outpost::hub {

// One `subscriptions:` entry of a site: the images the hub sends it by itself.
struct Subscription {
  std::vector<std::string> images;  // globs on "REPO:TAG" (fnmatch: `*`, `?`, `[...]`), e.g. "app/*:1.*"
  int64_t priority = 0;              // the transfers' priority
  uint64_t max_bundle_bytes = UINT64_MAX;  // a bigger bundle is held for `outpost hub approve`
  // Of a tag that names a multi-platform index, the platforms sent ("os/arch[/variant]", a
  // variant-less entry matches every variant); empty: all of them.
  std::vector<std::string> platforms;
  // How many versions (tags published by outpost) of each matching repository the site keeps;
  // older ones are removed after each publish (docs/agent-state.md, "Garbage collection").
  // 0: never remove. Sent to the agent with each transfer (docs/protocol.md, GET /v1/work).
  uint32_t keep = kDefaultKeep;
  // The newest and the one before it: a rollback and a delta base for the next version.
  static constexpr uint32_t kDefaultKeep = 2;

  // True when "REPO:TAG" matches one of `images`.
  bool Matches(std::string_view repo_tag) const;
};

// Where the hub watches for images: `source: oci:DIR` or `source: docker://HOST[:PORT]`.
struct SourceConfig {
  std::string registry;           // "HOST[:PORT]" of a docker:// source, else ""
  std::filesystem::path layout;   // the OCI layout of an oci: source (tags are "REPO:TAG")
  std::chrono::milliseconds poll_interval{std::chrono::seconds(60)};

  // "docker://HOST/REPO@DIGEST" or "oci:DIR@DIGEST": the source's image `digest` of `repo`.
  std::string ImageRef(const std::string& repo, const std::string& digest) const;
  // "docker://HOST" or "oci:DIR", for messages.
  std::string str() const;
};

// One `sites:` entry.
struct SiteConfig {
  std::string name;                       // the CN of the site's client certificate
  uint64_t rate = link::kUnlimitedRate;   // bytes per second inside windows without their own
  std::string timezone = "UTC";           // IANA name the windows are read in
  std::vector<link::Window> windows;      // none: always open
  std::vector<Subscription> subscriptions;  // none: only what `hub enqueue` queues

  // The first subscription that matches "REPO:TAG", or nullptr.
  const Subscription* Subscribed(std::string_view repo_tag) const;
  // The `keep` of the subscription a transfer published as `as_ref` ("REPO:TAG") falls under;
  // nullopt for none (no `as`, or no subscription matches: the agent then removes nothing).
  std::optional<uint32_t> KeepFor(const std::optional<std::string>& as_ref) const;
};

struct HubConfig {
  std::filesystem::path file;             // the config file itself, for messages
  std::string listen_host;                // "127.0.0.1", "::", "0.0.0.0"
  uint16_t listen_port = 0;               // 0: an ephemeral port, written to STATE_DIR/port
  std::filesystem::path state_dir;
  link::TlsFiles tls;
  std::optional<std::filesystem::path> sign_key;
  uint64_t rate = link::kUnlimitedRate;   // the hub-wide cap over all sites
  std::vector<SiteConfig> sites;
  std::optional<SourceConfig> source;     // none: the hub queues only what `hub enqueue` gives it
  // `http_listen: HOST:PORT`: the plain-HTTP listener for GET /metrics and, with a
  // notifications_token, the registry's POST /v1/notifications (docs/metrics.md); none: off.
  std::optional<std::pair<std::string, uint16_t>> http_listen;
  // `notifications_token`: the secret a registry's notifications carry as
  // "Authorization: Bearer TOKEN" (needs `source` and `http_listen`); none: no webhook.
  std::optional<std::string> notifications_token;

  // The site named `name`, or nullptr.
  const SiteConfig* FindSite(std::string_view name) const;
  // "oslo, bergen": the configured site names, for messages.
  std::string SiteNames() const;
  // STATE_DIR/hub.db, STATE_DIR/bundles, STATE_DIR/port.
  std::filesystem::path database() const { return state_dir / "hub.db"; }
  std::filesystem::path bundles() const { return state_dir / "bundles"; }
  std::filesystem::path port_file() const { return state_dir / "port"; }
  // STATE_DIR/http_port: the plain-HTTP listener's port when http_listen asks for port 0.
  std::filesystem::path http_port_file() const { return state_dir / "http_port"; }
};

// Reads and checks `path` (every key known (sites' `subscriptions` need `source`), every value well-formed, site names unique, each
// timezone known, the TLS files and sign_key present). Throws NotFound (the file),
// InvalidArgument "hub.yaml:LINE: `key`: ..." for anything else.
HubConfig LoadHubConfig(const std::filesystem::path& path);
// The same from a parsed config (tests use ConfigMap::Parse). File presence is not checked
// here: LoadHubConfig does that.
HubConfig ParseHubConfig(const link::ConfigMap& top);

// Splits "host:port" or "[v6]:port"; throws InvalidArgument naming `text`.
std::pair<std::string, uint16_t> ParseListen(std::string_view text);

}  // namespace outpost::hub
