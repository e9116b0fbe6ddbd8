// One site's connection to the hub: the TLS handshake, then requests one at a time until the
// peer closes, a read or write makes no progress for 30 s, or the hub stops.
#pragma once

#include <utility>  // before Asio: its awaitable.hpp uses std::exchange

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include <memory>
#include <string>

#include "hub/hub_routes.h"

namespace outpost::hub {

class Session {
 public:
  // `socket` is bound to this connection's strand; `tls` and `routes` outlive the session.
  Session(boost::asio::ip::tcp::socket socket, boost::asio::ssl::context& tls, Routes& routes);

  // Serves the connection to its end. Runs on the session's strand.
  boost::asio::awaitable<void> Run();
  // Ends the connection now: closes the socket and cancels any wait. Call on the strand
  // (post to executor()).
  void Cancel();
  boost::asio::any_io_executor executor() { return timer_.get_executor(); }

 private:
  using Stream = boost::beast::ssl_stream<boost::beast::tcp_stream>;

  boost::asio::awaitable<bool> Handshake();
  // Reads and answers one request; false when the connection is to end.
  boost::asio::awaitable<bool> Serve();
  // Answers `request`, long polls included.
  boost::asio::awaitable<bool> Answer(const Request& request);
  // Holds a GET /v1/work that found nothing until a transfer is queued or its wait ends.
  boost::asio::awaitable<void> Poll(const Request& request, Reply& reply);
  boost::asio::awaitable<bool> Write(const Reply& reply, bool keep_alive);
  boost::asio::awaitable<bool> WriteFile(const FileRange& range, const Reply& reply, bool keep_alive);
  // After a refusal: stops sending and reads (discarding) what the peer still sends, for up to
  // 2 s or 1 MiB, so closing does not reset the connection before the peer has read the answer.
  boost::asio::awaitable<void> Linger();
  // Sleeps `d` (cancelled by Cancel); false when cancelled.
  boost::asio::awaitable<bool> Sleep(std::chrono::nanoseconds d);

  Stream stream_;
  boost::asio::steady_timer timer_;
  boost::beast::flat_buffer buffer_;
  Routes& routes_;
  std::string peer_;  // "10.1.2.3:50123"
  std::string site_;  // the certificate's CN
  bool stopping_ = false;
  bool refused_ = false;  // the last response closes the connection (Linger, no TLS shutdown)
};

}  // namespace outpost::hub
