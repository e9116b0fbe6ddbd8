// The hub's plain-HTTP listener (hub.yaml `http_listen`, docs/metrics.md): GET /metrics for
// Prometheus and, with a `notifications_token`, POST /v1/notifications for the source
// registry's webhook. Apart from the TLS port: neither a scraper nor a registry holds a site
// certificate.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>

#include "hub/hub_config.h"
#include "hub/hub_state.h"
#include "hub/metrics.h"
#include "hub/notifications.h"
#include "link/plain_http_server.h"

namespace outpost::hub {

class HttpListener {
 public:
  // Binds config.http_listen (which must be set; port 0: an ephemeral one, written to
  // STATE_DIR/http_port). `wake` (empty without a source) wakes the watcher; `connections`
  // counts the open agent connections. `config` and `state` must outlive this. Throws
  // NetworkError, InvalidArgument (the listener), IOError (the port file).
  HttpListener(const HubConfig& config, HubState& state, Notifications::Wake wake, std::function<size_t()> connections);

  uint16_t port() const { return server_.port(); }
  // Serves on its own thread.
  void Start() { server_.Start(); }
  // Thread-safe, idempotent; joins the thread.
  void Stop() { server_.Stop(); }

 private:
  link::PlainReply Route(const link::PlainRequest& request);

  HubMetrics metrics_;
  std::unique_ptr<Notifications> notifications_;  // with a notifications_token
  link::PlainHttpServer server_;
};

}  // namespace outpost::hub
