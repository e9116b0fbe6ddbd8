#include "hub/notifications.h"

#include <fnmatch.h>
#include <spdlog/spdlog.h>

#include <nlohmann/json.hpp>

#include "common/error.h"
#include "link/metrics_text.h"

namespace outpost::hub {
namespace {

namespace http = boost::beast::http;

// True when some site subscribes to an image of `repo` (a glob's REPO part matches it).
bool RepositorySubscribed(const HubConfig& config, const std::string& repo) {
  for (const SiteConfig& site : config.sites) {
    for (const Subscription& sub : site.subscriptions) {
      for (const std::string& glob : sub.images) {
        std::string repo_glob = glob.substr(0, glob.rfind(':'));
        if (fnmatch(repo_glob.c_str(), repo.c_str(), 0) == 0) return true;
      }
    }
  }
  return false;
}

bool Subscribed(const HubConfig& config, const std::string& repo, const std::string& tag) {
  if (tag.empty()) return RepositorySubscribed(config, repo);
  const std::string ref = repo + ":" + tag;
  for (const SiteConfig& site : config.sites) {
    if (site.Subscribed(ref) != nullptr) return true;
  }
  return false;
}

std::string StringAt(const nlohmann::json& object, const char* key) {
  auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : "";
}

link::PlainReply Refuse(unsigned status, std::string_view kind, const std::string& why) {
  spdlog::warn("registry notification refused ({}): {}", status, why);
  link::ProcessErrors().Add(kind);
  return {status, "text/plain; charset=utf-8", why + "\n"};
}

}  // namespace

std::vector<std::string> SubscribedPushes(const HubConfig& config, std::string_view body) {
  nlohmann::json envelope = nlohmann::json::parse(body, nullptr, false);
  if (envelope.is_discarded()) throw InvalidArgument("the notification is not JSON");
  if (!envelope.is_object() || !envelope.contains("events") || !envelope["events"].is_array()) {
    throw InvalidArgument("the notification has no \"events\" array");
  }
  std::vector<std::string> pushes;
  for (const nlohmann::json& event : envelope["events"]) {
    if (!event.is_object()) throw InvalidArgument("an event of the notification is not an object");
    if (StringAt(event, "action") != "push" || !event.contains("target") || !event["target"].is_object()) continue;
    const nlohmann::json& target = event["target"];
    const std::string repo = StringAt(target, "repository"), tag = StringAt(target, "tag"), type = StringAt(target, "mediaType");
    const std::string digest = StringAt(target, "digest");
    // A blob (layer, config) is pushed before its manifest: only the manifest makes an image.
    bool manifest = !tag.empty() || type.find("manifest") != std::string::npos || type.find("index") != std::string::npos;
    if (!manifest || repo.empty() || !Subscribed(config, repo, tag)) continue;
    pushes.push_back((tag.empty() ? repo : repo + ":" + tag) + (digest.empty() ? "" : "@" + digest));
  }
  return pushes;
}

bool BearerMatches(std::string_view authorization, std::string_view token) {
  constexpr std::string_view kBearer = "Bearer ";
  if (token.empty() || !authorization.starts_with(kBearer)) return false;
  std::string_view given = authorization.substr(kBearer.size());
  unsigned char diff = given.size() == token.size() ? 0 : 1;
  for (size_t i = 0; i < given.size(); ++i) diff |= static_cast<unsigned char>(given[i] ^ token[i % token.size()]);
  return diff == 0;
}

Notifications::Notifications(const HubConfig& config, Wake wake) : config_(config), wake_(std::move(wake)) {}

link::PlainReply Notifications::Handle(const link::PlainRequest& request) {
  if (request.method() != http::verb::post) return Refuse(405, "notification_refused", "notifications are POSTed");
  auto auth = request[http::field::authorization];
  if (!BearerMatches(std::string_view(auth.data(), auth.size()), *config_.notifications_token)) {
    return Refuse(401, "notification_unauthorized", "missing or wrong notifications token (Authorization: Bearer)");
  }
  std::vector<std::string> pushes;
  try {
    pushes = SubscribedPushes(config_, request.body());
  } catch (const Error& e) {
    return Refuse(400, "notification_malformed", e.what());
  }
  if (pushes.empty()) {
    spdlog::debug("registry notification: no push of a subscribed image");
    return {200, "text/plain; charset=utf-8", "nothing subscribed\n"};
  }
  std::string list;
  for (const std::string& p : pushes) list += (list.empty() ? "" : ", ") + p;
  spdlog::info("registry notification: pushed {}; the watcher plans now", list);
  wake_(pushes);
  return {202, "text/plain; charset=utf-8", "planning\n"};
}

}  // namespace outpost::hub
