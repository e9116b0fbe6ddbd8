// The registry's webhook (Docker distribution's `notifications.endpoints`, docs/metrics.md):
// POST /v1/notifications with an envelope {"events": [{"action": "push", "target":
// {"repository", "tag", ...}}, ...]}. A push of a subscribed repository wakes the watcher at
// once; pulls and everything else are ignored. The registry cannot present the link's client
// certificates, so a shared secret (hub.yaml `notifications_token`) authenticates it.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "hub/hub_config.h"
#include "link/plain_http_server.h"

namespace outpost::hub {

// The subscribed pushes of an envelope: "REPO:TAG" (or "REPO" for a manifest pushed by digest
// only), followed by "@DIGEST" when the event names the manifest's digest, in the order they came. Pulls, other actions, blob pushes (a mediaType naming neither a
// manifest nor an index, and no tag) and repositories no site subscribes to are left out. Throws InvalidArgument when `body` is not JSON or not an envelope (no "events" array,
// an event that is not an object).
std::vector<std::string> SubscribedPushes(const HubConfig& config, std::string_view body);

class Notifications {
 public:
  // Called on the listener's thread once per envelope with a subscribed push, with its pushes
  // (as SubscribedPushes gives them).
  using Wake = std::function<void(const std::vector<std::string>& pushes)>;

  // `config` (with a notifications_token) must outlive this.
  Notifications(const HubConfig& config, Wake wake);

  // 202 and the wake for subscribed pushes, 200 for an envelope with none; 401 (bad or missing
  // token), 405 (not POST), 400 (not an envelope); each refusal logged and counted.
  link::PlainReply Handle(const link::PlainRequest& request);

 private:
  const HubConfig& config_;
  Wake wake_;
};

// True when `authorization` is "Bearer TOKEN" (compared in constant time).
bool BearerMatches(std::string_view authorization, std::string_view token);

}  // namespace outpost::hub
