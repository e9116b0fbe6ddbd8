#include "hub/hub_server.h"

#include <spdlog/spdlog.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "common/error.h"
#include "hub/hub_session.h"

namespace outpost::hub {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;

constexpr std::chrono::milliseconds kAcceptRetry{100};

tcp::endpoint Endpoint(const std::string& host, uint16_t port) {
  boost::system::error_code ec;
  asio::ip::address address = asio::ip::make_address(host == "localhost" ? "127.0.0.1" : host, ec);
  if (ec) throw InvalidArgument("listen: `", host, "` is not an IP address (", ec.message(), ")");
  return {address, port};
}

}  // namespace

Server::Server(asio::io_context& ioc, asio::ssl::context& tls, Routes& routes, const std::string& host, uint16_t port)
    : ioc_(ioc), tls_(tls), routes_(routes), acceptor_(asio::make_strand(ioc)) {
  tcp::endpoint ep = Endpoint(host, port);
  boost::system::error_code ec;
  acceptor_.open(ep.protocol(), ec);
  if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor_.bind(ep, ec);
  if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) throw NetworkError("cannot listen on ", host, ":", std::to_string(port), ": ", ec.message());
  port_ = acceptor_.local_endpoint().port();
}

Server::~Server() = default;

void Server::Start() { asio::co_spawn(acceptor_.get_executor(), Accept(), asio::detached); }

asio::awaitable<void> Server::Accept() {
  for (;;) {
    boost::system::error_code ec;
    tcp::socket socket = co_await acceptor_.async_accept(asio::make_strand(ioc_), asio::redirect_error(asio::use_awaitable, ec));
    if (ec == asio::error::operation_aborted || !acceptor_.is_open()) co_return;
    if (ec) {
      // EMFILE/ENFILE (open-file limit) fail at once again until a connection ends: pause
      // rather than spin and flood the log.
      spdlog::warn("accepting a connection failed: {}", ec.message());
      asio::steady_timer pause(acceptor_.get_executor(), kAcceptRetry);
      co_await pause.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      continue;
    }
    Spawn(std::move(socket));
  }
}

void Server::Spawn(tcp::socket socket) {
  auto session = std::make_shared<Session>(std::move(socket), tls_, routes_);
  {
    std::lock_guard lock(mu_);
    if (stopped_) return;
    sessions_.insert(session);
  }
  asio::co_spawn(session->executor(), session->Run(), [this, session](std::exception_ptr error) {
    if (error) {
      try {
        std::rethrow_exception(error);
      } catch (const std::exception& e) {
        spdlog::error("a connection ended with an internal error: {}", e.what());
      }
    }
    Remove(session);
  });
}

void Server::Remove(const std::shared_ptr<Session>& session) {
  std::lock_guard lock(mu_);
  sessions_.erase(session);
}

size_t Server::connections() {
  std::lock_guard lock(mu_);
  return sessions_.size();
}

void Server::Stop() {
  std::lock_guard lock(mu_);
  if (stopped_) return;
  stopped_ = true;
  asio::post(acceptor_.get_executor(), [this] {
    boost::system::error_code ignored;
    acceptor_.close(ignored);
  });
  for (const std::shared_ptr<Session>& s : sessions_) asio::post(s->executor(), [s] { s->Cancel(); });
}

}  // namespace outpost::hub
