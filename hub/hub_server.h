// The hub's HTTPS server: accepts TLS 1.3 connections with client certificates, one coroutine
// per connection on its own strand, requests answered through Routes, head and payload bytes
// paced through the site's and the hub's token buckets (docs/protocol.md).
#pragma once

#include <utility>  // before Asio: its awaitable.hpp uses std::exchange

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>

#include <cstdint>
#include <memory>
#include <mutex>
#include <set>

#include "hub/hub_routes.h"

namespace outpost::hub {

class Session;

// Listens on construction; serves once the io_context runs; Stop ends it.
class Server {
 public:
  // Binds `host`:`port` (port 0: an ephemeral one) on `ioc`. `tls` and `routes` must outlive
  // this. Throws NetworkError naming the address when it cannot listen.
  Server(boost::asio::io_context& ioc, boost::asio::ssl::context& tls, Routes& routes, const std::string& host, uint16_t port);
  ~Server();

  // The port it listens on.
  uint16_t port() const { return port_; }
  // Connections open now (handshakes under way included). Thread-safe.
  size_t connections();
  // Starts accepting (on the io_context).
  void Start();
  // Thread-safe, idempotent: stops accepting and ends every connection; the io_context then
  // runs out of work.
  void Stop();

 private:
  boost::asio::awaitable<void> Accept();
  void Spawn(boost::asio::ip::tcp::socket socket);
  void Remove(const std::shared_ptr<Session>& session);

  boost::asio::io_context& ioc_;
  boost::asio::ssl::context& tls_;
  Routes& routes_;
  boost::asio::ip::tcp::acceptor acceptor_;
  uint16_t port_ = 0;
  std::mutex mu_;
  bool stopped_ = false;
  std::set<std::shared_ptr<Session>> sessions_;
};

}  // namespace outpost::hub
