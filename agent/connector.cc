#include "agent/connector.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include "agent/wire.h"
#include "common/error.h"
#include "link/http.h"
#include "link/tls.h"

namespace outpost::agent {
namespace {

namespace asio = boost::asio;
using asio::use_awaitable;


Error Failed(const AgentConfig& config, std::string_view step, const boost::system::error_code& ec) {
  std::string via = config.proxy ? " via proxy " + config.proxy->str() : "";
  return NetworkError("cannot reach hub ", config.hub.str(), via, ": ", step, ": ", ec.message());
}

// TCP to `to`, within the stall timeout.
asio::awaitable<void> Dial(const AgentConfig& config, boost::beast::tcp_stream& tcp, const HostPort& to) {
  boost::system::error_code ec;
  asio::ip::tcp::resolver resolver(co_await asio::this_coro::executor);
  const std::string port = std::to_string(to.port);
  auto endpoints = co_await resolver.async_resolve(to.host, port, asio::redirect_error(use_awaitable, ec));
  if (ec) throw Failed(config, "resolving " + to.host, ec);
  tcp.expires_after(config.stall_timeout);
  co_await tcp.async_connect(endpoints, asio::redirect_error(use_awaitable, ec));
  if (ec) throw Failed(config, "connecting to " + to.str(), ec);
}

// The CONNECT exchange with the proxy on `tcp`.
asio::awaitable<void> Tunnel(const AgentConfig& config, boost::beast::tcp_stream& tcp) {
  boost::system::error_code ec;
  const std::string request = ConnectRequest(config.hub);
  tcp.expires_after(config.stall_timeout);
  co_await asio::async_write(tcp, asio::buffer(request), asio::redirect_error(use_awaitable, ec));
  if (ec) throw Failed(config, "sending CONNECT", ec);
  std::string answer;
  auto buffer = asio::dynamic_buffer(answer, link::kMaxHeaderBytes);
  tcp.expires_after(config.stall_timeout);
  const std::string end_of_headers = "\r\n\r\n";
  size_t n = co_await asio::async_read_until(tcp, buffer, end_of_headers, asio::redirect_error(use_awaitable, ec));
  if (ec) throw Failed(config, "reading the proxy's answer to CONNECT", ec);
  CheckConnectResponse(std::string_view(answer).substr(0, n), *config.proxy, config.hub);
  if (answer.size() != n) throw NetworkError("proxy ", config.proxy->str(), " sent bytes before the TLS handshake");
}

}  // namespace

asio::awaitable<void> ConnectToHub(const AgentConfig& config, HubStream& stream) {
  boost::beast::tcp_stream& tcp = boost::beast::get_lowest_layer(stream);
  co_await Dial(config, tcp, config.proxy ? *config.proxy : config.hub);
  if (config.proxy) co_await Tunnel(config, tcp);
  link::SetServerName(stream.native_handle(), config.hub.host);
  boost::system::error_code ec;
  tcp.expires_after(config.stall_timeout);
  co_await stream.async_handshake(asio::ssl::stream_base::client, asio::redirect_error(use_awaitable, ec));
  if (ec) {
    const std::string verify = link::VerifyFailure(stream.native_handle());
    throw Failed(config, verify.empty() ? "TLS handshake" : "TLS handshake (" + verify + ")", ec);
  }
}

}  // namespace outpost::agent
