#include "hub/hub.h"

#include <spdlog/spdlog.h>
#include <sys/resource.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <csignal>
#include <thread>

#include "common/error.h"
#include "common/file.h"
#include "hub/http_listener.h"
#include "hub/hub_routes.h"
#include "hub/hub_server.h"
#include "hub/hub_state.h"
#include "hub/watcher.h"
#include "link/tls.h"

namespace outpost::hub {

struct HubDaemon::Parts {
  Parts(const HubConfig& config, const link::Clock& clock)
      : state(config.state_dir, clock),
        routes(config, state, clock),
        tls(link::MakeServerContext(config.tls)),
        server(ioc, tls, routes, config.listen_host, config.listen_port) {}

  HubState state;
  Routes routes;
  boost::asio::ssl::context tls;
  boost::asio::io_context ioc{2};
  Server server;
  std::unique_ptr<Watcher> watcher;  // with a `source` only
  std::unique_ptr<HttpListener> http;  // with `http_listen` only
};

HubDaemon::HubDaemon(const HubConfig& config, const link::Clock& clock) : parts_(std::make_unique<Parts>(config, clock)) {
  std::vector<std::string> names;
  for (const SiteConfig& s : config.sites) names.push_back(s.name);
  parts_->state.AddSites(names);
  if (config.source) {
    parts_->watcher = std::make_unique<Watcher>(config, parts_->state, clock);
    parts_->routes.OnInventory([watcher = parts_->watcher.get()](const std::string&) { watcher->Wake(); });
    parts_->routes.OnSignature([watcher = parts_->watcher.get()](const std::string&) { watcher->Wake(); });
  }
  if (config.http_listen) {
    Notifications::Wake wake;
    if (parts_->watcher) wake = [watcher = parts_->watcher.get()](const std::vector<std::string>& pushes) { watcher->Wake(pushes); };
    parts_->http = std::make_unique<HttpListener>(config, parts_->state, wake, [this] { return parts_->server.connections(); });
  }
  if (config.listen_port == 0) WriteFileAtomic(config.port_file(), std::to_string(port()) + "\n");
  spdlog::info("hub listening on {}:{} for sites {} (state {})", config.listen_host, port(), config.SiteNames(),
               config.state_dir.string());
}

HubDaemon::~HubDaemon() = default;

uint16_t HubDaemon::port() const { return parts_->server.port(); }

void HubDaemon::Run() {
  if (parts_->watcher) parts_->watcher->Start();
  if (parts_->http) parts_->http->Start();
  parts_->server.Start();
  std::thread second([this] { parts_->ioc.run(); });
  parts_->ioc.run();
  second.join();
  if (parts_->watcher) parts_->watcher->Stop();  // the destructor joins it
  if (parts_->http) parts_->http->Stop();
}

void HubDaemon::Stop() {
  parts_->server.Stop();
  if (parts_->watcher) parts_->watcher->Stop();
  if (parts_->http) parts_->http->Stop();
}

void RaiseOpenFileLimit(size_t sites) {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return;
  if (limit.rlim_cur < limit.rlim_max) {
    rlim_t before = limit.rlim_cur;
    limit.rlim_cur = limit.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &limit) != 0) limit.rlim_cur = before;
  }
  const rlim_t wanted = sites + kSpareFiles;
  if (limit.rlim_cur < wanted) {
    spdlog::warn("hub: open-file limit {} is below the {} that {} sites need (one connection each, {} spare); "
                 "raise LimitNOFILE / ulimit -n",
                 limit.rlim_cur, wanted, sites, kSpareFiles);
  }
}

void RunHub(const HubConfig& config, const link::Clock& clock) {
  RaiseOpenFileLimit(config.sites.size());
  // Taken first: a signal that arrives while the daemon starts waits in the set for async_wait.
  boost::asio::io_context signals_ioc;
  boost::asio::signal_set signals(signals_ioc, SIGINT, SIGTERM);
  HubDaemon daemon(config, clock);
  signals.async_wait([&](const boost::system::error_code& ec, int sig) {
    if (ec) return;
    spdlog::info("hub stopping (signal {})", sig);
    daemon.Stop();
  });
  std::thread waiter([&] { signals_ioc.run(); });
  daemon.Run();
  signals_ioc.stop();  // thread-safe, unlike cancelling the set from here
  waiter.join();
  spdlog::info("hub stopped");
}

}  // namespace outpost::hub
