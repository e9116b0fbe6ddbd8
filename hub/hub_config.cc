#include "hub/hub_config.h"

#include <fnmatch.h>

#include <charconv>
#include <set>

#include "common/error.h"
#include "image/image.h"

namespace outpost::hub {
namespace {

// Runs `parse` on the value at `key`; an InvalidArgument it throws gets the file and line.
template <typename F>
auto At(const link::ConfigMap& map, std::string_view key, F parse) {
  try {
    return parse();
  } catch (const Error& e) {
    if (e.kind() != Error::Kind::kInvalidArgument) throw;
    throw map.ErrorAt(key, e.what());
  }
}

bool IsSiteName(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

link::Window ParseWindow(const link::ConfigMap& map) {
  map.AllowOnly({"days", "start", "end", "rate"});
  link::Window w;
  w.days = At(map, "days", [&] { return link::ParseDays(map.String("days")); });
  w.start_minute = At(map, "start", [&] { return link::ParseTimeOfDay(map.String("start")); });
  w.end_minute = At(map, "end", [&] { return link::ParseTimeOfDay(map.String("end")); });
  if (w.start_minute >= 1440) throw map.ErrorAt("start", "a window cannot start at 24:00");
  if (w.end_minute == 0) w.end_minute = 1440;  // "00:00" as an end is midnight
  w.rate = map.OptionalRate("rate");
  return w;
}

Subscription ParseSubscription(const link::ConfigMap& map) {
  map.AllowOnly({"images", "priority", "max_bundle_bytes", "platforms", "keep"});
  Subscription sub;
  sub.images = map.StringList("images");
  if (sub.images.empty()) throw map.ErrorAt("images", "a subscription needs at least one REPO:TAG glob (e.g. \"test:*\")");
  for (const std::string& glob : sub.images) {
    size_t colon = glob.rfind(':');
    if (colon == std::string::npos || colon == 0 || colon + 1 == glob.size()) {
      throw map.ErrorAt("images", "`" + glob + "` is not a REPO:TAG glob (e.g. \"test:*\", \"app/*:1.*\")");
    }
  }
  sub.priority = map.OptionalInt("priority", -1000000, 1000000).value_or(0);
  sub.max_bundle_bytes = map.OptionalBytes("max_bundle_bytes").value_or(UINT64_MAX);
  sub.platforms = map.StringList("platforms");
  for (const std::string& platform : sub.platforms) At(map, "platforms", [&] { return image::Platform::Parse(platform); });
  sub.keep = static_cast<uint32_t>(map.OptionalInt("keep", 0, 1000).value_or(Subscription::kDefaultKeep));
  return sub;
}

SourceConfig ParseSource(const link::ConfigMap& top) {
  SourceConfig source;
  std::string text = top.String("source");
  constexpr std::string_view kDocker = "docker://", kOci = "oci:";
  if (text.starts_with(kDocker) && text.size() > kDocker.size() && text.find('/', kDocker.size()) == std::string::npos) {
    source.registry = text.substr(kDocker.size());
  } else if (text.starts_with(kOci) && text.size() > kOci.size()) {
    source.layout = text.substr(kOci.size());
    if (source.layout.is_relative()) source.layout = std::filesystem::path(top.file()).parent_path() / source.layout;
  } else {
    throw top.ErrorAt("source", "`" + text + "` is neither docker://HOST[:PORT] nor oci:DIR");
  }
  source.poll_interval = top.OptionalDuration("poll_interval").value_or(source.poll_interval);
  if (source.poll_interval < std::chrono::seconds(1)) throw top.ErrorAt("poll_interval", "must be at least 1s");
  return source;
}

SiteConfig ParseSite(const link::ConfigMap& map) {
  map.AllowOnly({"name", "rate", "timezone", "windows", "subscriptions"});
  SiteConfig site;
  site.name = map.String("name");
  if (!IsSiteName(site.name)) {
    throw map.ErrorAt("name", "`" + site.name + "` is not a site name (1..64 of A-Z a-z 0-9 . _ -, as its certificate's CN)");
  }
  site.rate = map.OptionalRate("rate").value_or(link::kUnlimitedRate);
  site.timezone = map.OptionalString("timezone").value_or("UTC");
  for (const link::ConfigMap& w : map.MapList("windows")) site.windows.push_back(ParseWindow(w));
  for (const link::ConfigMap& sub : map.MapList("subscriptions")) site.subscriptions.push_back(ParseSubscription(sub));
  // Builds the schedule once so an unknown timezone is an error at its line.
  At(map, "timezone", [&] { return link::Schedule(site.timezone, site.windows, site.rate).timezone(); });
  return site;
}

void RequireFile(const link::ConfigMap& map, std::string_view key, const std::filesystem::path& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) throw map.ErrorAt(key, "no such file: " + path.string());
}

// `http_listen` and `notifications_token`.
void ParseHttp(const link::ConfigMap& top, HubConfig& c) {
  if (top.Has("http_listen")) c.http_listen = At(top, "http_listen", [&] { return ParseListen(top.String("http_listen")); });
  c.notifications_token = top.OptionalString("notifications_token");
  if (!c.notifications_token) return;
  if (c.notifications_token->size() < 16) throw top.ErrorAt("notifications_token", "must be at least 16 characters (e.g. `openssl rand -hex 32`)");
  if (!c.http_listen) throw top.ErrorAt("notifications_token", "needs `http_listen` (the plain-HTTP listener the registry posts to)");
  if (!c.source) throw top.ErrorAt("notifications_token", "needs a `source` (the registry whose pushes wake the watcher)");
}

}  // namespace

bool Subscription::Matches(std::string_view repo_tag) const {
  std::string text(repo_tag);
  for (const std::string& glob : images) {
    if (fnmatch(glob.c_str(), text.c_str(), 0) == 0) return true;
  }
  return false;
}

const Subscription* SiteConfig::Subscribed(std::string_view repo_tag) const {
  for (const Subscription& sub : subscriptions) {
    if (sub.Matches(repo_tag)) return &sub;
  }
  return nullptr;
}

std::optional<uint32_t> SiteConfig::KeepFor(const std::optional<std::string>& as_ref) const {
  const Subscription* sub = as_ref ? Subscribed(*as_ref) : nullptr;
  if (sub == nullptr) return std::nullopt;
  return sub->keep;
}

std::string SourceConfig::ImageRef(const std::string& repo, const std::string& digest) const {
  if (!registry.empty()) return "docker://" + registry + "/" + repo + "@" + digest;
  return "oci:" + layout.string() + "@" + digest;
}

std::string SourceConfig::str() const { return registry.empty() ? "oci:" + layout.string() : "docker://" + registry; }

const SiteConfig* HubConfig::FindSite(std::string_view name) const {
  for (const SiteConfig& s : sites) {
    if (s.name == name) return &s;
  }
  return nullptr;
}

std::string HubConfig::SiteNames() const {
  std::string out;
  for (const SiteConfig& s : sites) out += (out.empty() ? "" : ", ") + s.name;
  return out;
}

std::pair<std::string, uint16_t> ParseListen(std::string_view text) {
  size_t colon = text.rfind(':');
  auto bad = [&] { return InvalidArgument("`", text, "` is not HOST:PORT (e.g. 0.0.0.0:8443, [::]:8443)"); };
  if (colon == std::string_view::npos || colon == 0) throw bad();
  std::string_view host = text.substr(0, colon), port = text.substr(colon + 1);
  if (host.front() == '[') {
    if (host.size() < 3 || host.back() != ']') throw bad();
    host = host.substr(1, host.size() - 2);
  }
  unsigned value = 0;
  auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (port.empty() || ec != std::errc() || end != port.data() + port.size() || value > 65535) throw bad();
  return {std::string(host), static_cast<uint16_t>(value)};
}

HubConfig ParseHubConfig(const link::ConfigMap& top) {
  top.AllowOnly({"listen", "state_dir", "tls", "sign_key", "rate", "source", "poll_interval", "sites",
                "http_listen", "notifications_token"});
  HubConfig c;
  c.file = top.file();
  std::tie(c.listen_host, c.listen_port) = At(top, "listen", [&] { return ParseListen(top.String("listen")); });
  c.state_dir = top.Path("state_dir");
  link::ConfigMap tls = top.Map("tls");
  tls.AllowOnly({"ca", "cert", "key"});
  c.tls = {tls.Path("ca"), tls.Path("cert"), tls.Path("key")};
  c.sign_key = top.OptionalPath("sign_key");
  c.rate = top.OptionalRate("rate").value_or(link::kUnlimitedRate);
  if (top.Has("source")) c.source = ParseSource(top);
  if (!c.source && top.Has("poll_interval")) throw top.ErrorAt("poll_interval", "needs a `source` to poll");
  ParseHttp(top, c);
  std::set<std::string> names;
  for (const link::ConfigMap& s : top.MapList("sites")) {
    c.sites.push_back(ParseSite(s));
    if (!names.insert(c.sites.back().name).second) throw s.ErrorAt("name", "site `" + c.sites.back().name + "` is configured twice");
    if (!c.source && !c.sites.back().subscriptions.empty()) {
      throw s.ErrorAt("subscriptions", "subscriptions need a top-level `source` (docker://HOST[:PORT] or oci:DIR) to watch");
    }
  }
  if (c.sites.empty()) throw top.ErrorAt("sites", "no sites configured (the hub serves only the sites listed here)");
  return c;
}

HubConfig LoadHubConfig(const std::filesystem::path& path) {
  link::ConfigMap top = link::ConfigMap::Load(path);
  HubConfig c = ParseHubConfig(top);
  link::ConfigMap tls = top.Map("tls");
  RequireFile(tls, "ca", c.tls.ca);
  RequireFile(tls, "cert", c.tls.cert);
  RequireFile(tls, "key", c.tls.key);
  if (c.sign_key) RequireFile(top, "sign_key", *c.sign_key);
  return c;
}

}  // namespace outpost::hub
