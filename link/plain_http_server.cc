#include "link/plain_http_server.h"

#include <spdlog/spdlog.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/http.hpp>
#include <vector>

#include "common/error.h"
#include "link/metrics_text.h"

namespace outpost::link {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::redirect_error;
using asio::use_awaitable;
using asio::ip::tcp;

tcp::endpoint Endpoint(const std::string& host, uint16_t port) {
  boost::system::error_code ec;
  asio::ip::address address = asio::ip::make_address(host == "localhost" ? "127.0.0.1" : host, ec);
  if (ec) throw InvalidArgument("`", host, "` is not an IP address (", ec.message(), ")");
  return {address, port};
}

std::string Peer(const tcp::socket& socket) {
  beast::error_code ec;
  auto ep = socket.remote_endpoint(ec);
  return ec ? "unknown peer" : ep.address().to_string() + ":" + std::to_string(ep.port());
}

// A malformed request (not a closed or timed-out connection).
bool IsParseError(const beast::error_code& ec) {
  return ec.category() == http::make_error_code(http::error::bad_method).category() && ec != http::error::end_of_stream &&
         ec != http::error::partial_message;
}

}  // namespace

PlainHttpServer::PlainHttpServer(std::string name, const std::string& host, uint16_t port, Handler handler,
                                 PlainHttpLimits limits)
    : name_(std::move(name)), handler_(std::move(handler)), limits_(limits), acceptor_(ioc_) {
  tcp::endpoint ep = Endpoint(host, port);
  boost::system::error_code ec;
  acceptor_.open(ep.protocol(), ec);
  if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor_.bind(ep, ec);
  if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) throw NetworkError(name_, ": cannot listen on ", host, ":", std::to_string(port), ": ", ec.message());
  port_ = acceptor_.local_endpoint().port();
}

PlainHttpServer::~PlainHttpServer() { Stop(); }

void PlainHttpServer::Start() {
  std::lock_guard lock(mu_);
  if (stopped_) return;  // stopped before it started (a signal during start-up)
  asio::co_spawn(ioc_, Accept(), asio::detached);
  thread_ = std::thread([this] { ioc_.run(); });
}

void PlainHttpServer::Stop() {
  {
    std::lock_guard lock(mu_);
    if (!stopped_) {
      stopped_ = true;
      asio::post(ioc_, [this] {
        boost::system::error_code ignored;
        acceptor_.close(ignored);
        for (const std::shared_ptr<Stream>& s : streams_) s->socket().close(ignored);
      });
    }
  }
  std::lock_guard lock(join_mu_);  // every caller returns after the thread has ended
  if (thread_.joinable()) thread_.join();
}

asio::awaitable<void> PlainHttpServer::Accept() {
  for (;;) {
    boost::system::error_code ec;
    tcp::socket socket = co_await acceptor_.async_accept(redirect_error(use_awaitable, ec));
    if (!acceptor_.is_open()) co_return;
    if (ec) {
      spdlog::warn("{}: accepting a connection failed: {}", name_, ec.message());
      continue;
    }
    if (streams_.size() >= limits_.max_connections) {
      spdlog::warn("{}: connection from {} closed: already {} open", name_, Peer(socket), streams_.size());
      socket.close(ec);
      continue;
    }
    auto stream = std::make_shared<Stream>(std::move(socket));
    streams_.insert(stream);
    asio::co_spawn(ioc_, Serve(stream), asio::detached);
  }
}

asio::awaitable<void> PlainHttpServer::Serve(std::shared_ptr<Stream> stream) {
  beast::flat_buffer buffer;
  while (co_await ServeOne(*stream, buffer)) {
  }
  beast::error_code ignored;
  stream->socket().shutdown(tcp::socket::shutdown_both, ignored);
  stream->socket().close(ignored);
  streams_.erase(stream);
}

asio::awaitable<bool> PlainHttpServer::ServeOne(Stream& stream, beast::flat_buffer& buffer) {
  http::request_parser<http::string_body> parser;
  parser.header_limit(limits_.max_header_bytes);
  parser.body_limit(limits_.max_body_bytes);
  beast::error_code ec;
  stream.expires_after(limits_.io_timeout);
  co_await http::async_read_header(stream, buffer, parser, redirect_error(use_awaitable, ec));
  if (!ec) {
    boost::optional<uint64_t> length = parser.content_length();
    if (length && *length > limits_.max_body_bytes) {
      ec = http::error::body_limit;
    } else {
      stream.expires_after(limits_.io_timeout);
      co_await http::async_read(stream, buffer, parser, redirect_error(use_awaitable, ec));
    }
  }
  const std::string peer = Peer(stream.socket());
  PlainReply refusal;
  if (ec == http::error::header_limit) {
    refusal = {431, "text/plain; charset=utf-8", "request header block over the limit\n"};
  } else if (ec == http::error::body_limit) {
    refusal = {413, "text/plain; charset=utf-8", "request body over " + std::to_string(limits_.max_body_bytes) + " bytes\n"};
  } else if (IsParseError(ec)) {
    refusal = {400, "text/plain; charset=utf-8", "malformed HTTP request\n"};
  } else if (ec) {
    if (ec != http::error::end_of_stream && acceptor_.is_open()) spdlog::debug("{}: connection from {} ends: {}", name_, peer, ec.message());
    co_return false;
  } else {
    const PlainRequest& request = parser.get();
    const bool keep_alive = request.keep_alive();
    PlainReply reply = Call(request);
    co_return co_await Write(stream, reply, keep_alive) && keep_alive;
  }
  spdlog::warn("{}: request from {} refused ({}): {}", name_, peer, refusal.status, ec.message());
  ProcessErrors().Add("http_request_refused");
  if (co_await Write(stream, refusal, false)) co_await Drain(stream);
  co_return false;
}

PlainReply PlainHttpServer::Call(const PlainRequest& request) {
  try {
    return handler_(request);
  } catch (const std::exception& e) {
    spdlog::error("{}: {} {}: {}", name_, std::string(request.method_string()), std::string(request.target()), e.what());
    return {500, "text/plain; charset=utf-8", std::string(e.what()) + "\n"};
  }
}

asio::awaitable<bool> PlainHttpServer::Write(Stream& stream, const PlainReply& reply, bool keep_alive) {
  http::response<http::string_body> res{static_cast<http::status>(reply.status), 11};
  if (!reply.content_type.empty()) res.set(http::field::content_type, reply.content_type);
  res.body() = reply.body;
  res.keep_alive(keep_alive);
  res.prepare_payload();
  beast::error_code ec;
  stream.expires_after(limits_.io_timeout);
  co_await http::async_write(stream, res, redirect_error(use_awaitable, ec));
  co_return !ec;
}

asio::awaitable<void> PlainHttpServer::Drain(Stream& stream) {
  beast::error_code ec;
  stream.socket().shutdown(tcp::socket::shutdown_send, ec);
  std::vector<char> sink(16 * 1024);
  stream.expires_after(std::chrono::seconds(2));
  for (size_t drained = 0; !ec && drained < (2u << 20);) {
    drained += co_await stream.async_read_some(asio::buffer(sink), redirect_error(use_awaitable, ec));
  }
}

}  // namespace outpost::link
