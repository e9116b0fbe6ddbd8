// A small plain-HTTP/1.1 server on its own thread, for what cannot present the link's client
// certificates: a registry's webhook notifications, Prometheus scrapes (docs/metrics.md). Every
// read and write has a timeout, request headers and bodies have limits, connections are capped;
// requests are answered one at a time on the server's thread by the handler.
#pragma once

#include <utility>  // before Asio: its awaitable.hpp uses std::exchange

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>

namespace outpost::link {

using PlainRequest = boost::beast::http::request<boost::beast::http::string_body>;

struct PlainReply {
  unsigned status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
};

struct PlainHttpLimits {
  uint32_t max_header_bytes = 8 * 1024;      // over: 431, connection closed
  uint64_t max_body_bytes = 1024 * 1024;     // over: 413 (by Content-Length, before reading it)
  std::chrono::milliseconds io_timeout{std::chrono::seconds(10)};  // per read and per write
  size_t max_connections = 64;               // more are closed at once
};

class PlainHttpServer {
 public:
  // Answers one request; runs on the server's thread. An exception becomes a 500 (logged).
  using Handler = std::function<PlainReply(const PlainRequest&)>;

  // Binds `host`:`port` (port 0: an ephemeral one). `name` names it in logs ("hub http").
  // Throws InvalidArgument (host not an IP address), NetworkError (cannot listen).
  PlainHttpServer(std::string name, const std::string& host, uint16_t port, Handler handler, PlainHttpLimits limits = {});
  // Stops and joins.
  ~PlainHttpServer();
  PlainHttpServer(const PlainHttpServer&) = delete;
  PlainHttpServer& operator=(const PlainHttpServer&) = delete;

  uint16_t port() const { return port_; }
  // Starts serving on its own thread (nothing after Stop).
  void Start();
  // Thread-safe, idempotent: closes the listener and every connection, joins the thread.
  void Stop();

 private:
  using Stream = boost::beast::tcp_stream;
  boost::asio::awaitable<void> Accept();
  boost::asio::awaitable<void> Serve(std::shared_ptr<Stream> stream);
  // Reads one request and answers it; false when the connection is to end.
  boost::asio::awaitable<bool> ServeOne(Stream& stream, boost::beast::flat_buffer& buffer);
  boost::asio::awaitable<bool> Write(Stream& stream, const PlainReply& reply, bool keep_alive);
  // After a refusal: reads what the peer still sends (2 s, 2 MiB at most) so it sees the answer.
  boost::asio::awaitable<void> Drain(Stream& stream);
  PlainReply Call(const PlainRequest& request);

  std::string name_;
  Handler handler_;
  PlainHttpLimits limits_;
  boost::asio::io_context ioc_{1};
  boost::asio::ip::tcp::acceptor acceptor_;
  uint16_t port_ = 0;
  std::set<std::shared_ptr<Stream>> streams_;  // on the server's thread only
  std::mutex mu_;        // stopped_, and thread_ while Start sets it
  bool stopped_ = false;
  std::mutex join_mu_;   // one joiner at a time
  std::thread thread_;
};

}  // namespace outpost::link
