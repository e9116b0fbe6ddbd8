#include "hub/http_listener.h"

#include <spdlog/spdlog.h>

#include "common/file.h"
#include "link/metrics_text.h"

namespace outpost::hub {
namespace {

// The request target without its query.
std::string_view Path(const link::PlainRequest& request) {
  std::string_view target(request.target().data(), request.target().size());
  return target.substr(0, target.find('?'));
}

}  // namespace

HttpListener::HttpListener(const HubConfig& config, HubState& state, Notifications::Wake wake,
                           std::function<size_t()> connections)
    : metrics_(config, state, std::move(connections)),
      server_("hub http", config.http_listen->first, config.http_listen->second,
              [this](const link::PlainRequest& request) { return Route(request); }) {
  if (config.notifications_token && wake) notifications_ = std::make_unique<Notifications>(config, std::move(wake));
  if (config.http_listen->second == 0) WriteFileAtomic(config.http_port_file(), std::to_string(port()) + "\n");
  spdlog::info("hub http listening on {}:{} (/metrics{})", config.http_listen->first, port(),
               notifications_ ? ", /v1/notifications" : "");
}

link::PlainReply HttpListener::Route(const link::PlainRequest& request) {
  std::string_view path = Path(request);
  if (path == "/metrics" && request.method() == boost::beast::http::verb::get) {
    return {200, std::string(link::kMetricsContentType), metrics_.Render()};
  }
  if (path == "/v1/notifications" && notifications_) return notifications_->Handle(request);
  return {404, "text/plain; charset=utf-8", "not found (GET /metrics, POST /v1/notifications)\n"};
}

}  // namespace outpost::hub
