#include "hub/hub_session.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http.hpp>
#include <vector>

#include "common/error.h"
#include "common/file.h"
#include "hub/pacing.h"
#include "link/http.h"
#include "link/metrics_text.h"
#include "link/tls.h"

namespace outpost::hub {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::redirect_error;
using asio::use_awaitable;
using std::chrono::steady_clock;

std::string PeerAddress(const asio::ip::tcp::socket& socket) {
  beast::error_code ec;
  auto ep = socket.remote_endpoint(ec);
  if (ec) return "unknown peer";
  return ep.address().to_string() + ":" + std::to_string(ep.port());
}

// The headers every response carries, and the reply's own.
template <typename Body>
void SetHeaders(http::response<Body>& res, const Reply& reply, bool keep_alive) {
  res.set(beast::string_view(link::kProtocolHeader.data(), link::kProtocolHeader.size()), std::to_string(link::kProtocolVersion));
  if (!reply.content_type.empty()) res.set(http::field::content_type, reply.content_type);
  for (const auto& [name, value] : reply.headers) res.set(name, value);
  res.keep_alive(keep_alive && !reply.close);
}

// Head and payload bytes written but not yet in the state: flushed at most once a second.
class SentCounter {
 public:
  SentCounter(HubState& state, const FileRange& range, std::string site)
      : state_(state), range_(range), site_(std::move(site)) {}
  ~SentCounter() { Flush(); }
  void Add(uint64_t n) {
    pending_ += n;
    if (steady_clock::now() - flushed_ >= std::chrono::seconds(1)) Flush();
  }
  void Flush() {
    try {
      state_.AddSent(range_.transfer, site_, pending_);
    } catch (const Error& e) {
      spdlog::error("site {}: transfer {}: cannot record {} bytes sent: {}", site_, range_.transfer, pending_, e.what());
    }
    pending_ = 0;
    flushed_ = steady_clock::now();
  }

 private:
  HubState& state_;
  const FileRange& range_;
  std::string site_;
  uint64_t pending_ = 0;
  steady_clock::time_point flushed_ = steady_clock::now();
};

}  // namespace

Session::Session(asio::ip::tcp::socket socket, asio::ssl::context& tls, Routes& routes)
    : stream_(beast::tcp_stream(std::move(socket)), tls), timer_(stream_.get_executor()), routes_(routes) {
  peer_ = PeerAddress(beast::get_lowest_layer(stream_).socket());
}

void Session::Cancel() {
  stopping_ = true;
  timer_.cancel();
  beast::error_code ignored;
  beast::get_lowest_layer(stream_).socket().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
  beast::get_lowest_layer(stream_).socket().close(ignored);
}

asio::awaitable<void> Session::Run() {
  if (!co_await Handshake()) co_return;
  while (!stopping_ && co_await Serve()) {
  }
  if (stopping_) co_return;
  if (refused_) {
    co_await Linger();
    co_return;
  }
  beast::error_code ec;
  beast::get_lowest_layer(stream_).expires_after(std::chrono::seconds(5));
  co_await stream_.async_shutdown(redirect_error(use_awaitable, ec));
}

asio::awaitable<void> Session::Linger() {
  auto& tcp = beast::get_lowest_layer(stream_);
  beast::error_code ec;
  tcp.socket().shutdown(asio::ip::tcp::socket::shutdown_send, ec);
  std::vector<uint8_t> sink(16 * 1024);
  tcp.expires_after(std::chrono::seconds(2));
  for (size_t drained = 0; !ec && drained < (1u << 20);) {
    drained += co_await tcp.async_read_some(asio::buffer(sink), redirect_error(use_awaitable, ec));
  }
}

asio::awaitable<bool> Session::Handshake() {
  beast::error_code ec;
  beast::get_lowest_layer(stream_).expires_after(link::kIoTimeout);
  co_await stream_.async_handshake(asio::ssl::stream_base::server, redirect_error(use_awaitable, ec));
  if (ec) {
    if (stopping_) co_return false;
    std::string why = link::VerifyFailure(stream_.native_handle());
    link::ProcessErrors().Add("tls_handshake_failed");
    spdlog::warn("connection from {} refused: TLS handshake failed: {}", peer_, why.empty() ? ec.message() : why);
    co_return false;
  }
  site_ = link::PeerCommonName(stream_.native_handle());
  if (routes_.Pacing(site_) == nullptr) {
    spdlog::warn("connection from {} refused: certificate CN `{}` is not a configured site", peer_, site_);
  } else {
    spdlog::debug("site {}: connected from {}", site_, peer_);
  }
  co_return true;
}

asio::awaitable<bool> Session::Serve() {
  http::request_parser<http::string_body> parser;
  parser.header_limit(link::kMaxHeaderBytes);
  parser.body_limit(link::kMaxSignatureBytes);  // the largest any route reads; cut to the route's below
  beast::error_code ec;
  beast::get_lowest_layer(stream_).expires_after(link::kIoTimeout);
  co_await http::async_read_header(stream_, buffer_, parser, redirect_error(use_awaitable, ec));
  uint64_t limit = link::kMaxBodyBytes;
  if (!ec) {
    auto target = parser.get().target();
    limit = BodyLimit(std::string_view(target.data(), target.size()));
    boost::optional<uint64_t> length = parser.content_length();
    if (length && *length > limit) {
      ec = http::error::body_limit;
    } else {
      parser.body_limit(limit);
      co_await http::async_read(stream_, buffer_, parser, redirect_error(use_awaitable, ec));
    }
  }
  if (ec == http::error::header_limit || ec == http::error::body_limit) {
    bool header = ec == http::error::header_limit;
    link::ProcessErrors().Add("request_refused");
    spdlog::warn("site {}: request from {} refused: {} over the limit", site_, peer_, header ? "header block" : "body");
    std::string body_message = "request body over " + std::to_string(limit / 1024) + " KiB";
    Reply reply = ErrorReply(header ? 431 : 413, header ? "request header block over 8 KiB" : body_message);
    reply.close = true;
    refused_ = true;
    co_await Write(reply, false);
    co_return false;
  }
  if (ec) {
    if (ec != http::error::end_of_stream && !stopping_) spdlog::debug("site {}: connection from {} ends: {}", site_, peer_, ec.message());
    co_return false;
  }
  co_return co_await Answer(parser.get());
}

asio::awaitable<bool> Session::Answer(const Request& request) {
  Reply reply;
  try {
    reply = routes_.Route(site_, request);
    if (reply.poll) co_await Poll(request, reply);
  } catch (const std::exception& e) {  // outpost::Error (disk full, ...) and anything unforeseen
    spdlog::error("site {}: {} {}: {}", site_, std::string(request.method_string()), std::string(request.target()), e.what());
    reply = ErrorReply(500, e.what());
    reply.close = true;
  }
  if (stopping_) co_return false;
  bool keep_alive = request.keep_alive() && !reply.close;
  refused_ = reply.close;
  bool written = false;
  if (reply.file) {
    written = co_await WriteFile(*reply.file, reply, keep_alive);
  } else {
    written = co_await Write(reply, keep_alive);
  }
  co_return written && keep_alive;
}

asio::awaitable<void> Session::Poll(const Request& request, Reply& reply) {
  auto deadline = steady_clock::now() + *reply.poll;
  while (reply.poll && !stopping_) {
    auto left = deadline - steady_clock::now();
    if (left <= steady_clock::duration::zero()) break;
    if (!co_await Sleep(std::min<steady_clock::duration>(left, std::chrono::seconds(1)))) break;
    reply = routes_.Work(site_, request);
  }
}

asio::awaitable<bool> Session::Sleep(std::chrono::nanoseconds d) {
  beast::error_code ec;
  timer_.expires_after(d);
  co_await timer_.async_wait(redirect_error(use_awaitable, ec));
  co_return !ec && !stopping_;
}

asio::awaitable<bool> Session::Write(const Reply& reply, bool keep_alive) {
  http::response<http::string_body> res{static_cast<http::status>(reply.status), 11};
  SetHeaders(res, reply, keep_alive);
  res.body() = reply.body;
  res.prepare_payload();
  beast::error_code ec;
  beast::get_lowest_layer(stream_).expires_after(link::kIoTimeout);
  co_await http::async_write(stream_, res, redirect_error(use_awaitable, ec));
  co_return !ec;
}

asio::awaitable<bool> Session::WriteFile(const FileRange& range, const Reply& reply, bool keep_alive) {
  std::unique_ptr<RandomAccessFile> file;
  Reply failed;
  try {
    file = std::make_unique<RandomAccessFile>(range.path);
    if (routes_.state().BeginSending(range.transfer)) {
      spdlog::info("site {}: transfer {} (bundle {}) started sending", site_, range.transfer, range.bundle_digest);
    }
  } catch (const Error& e) {
    spdlog::error("site {}: transfer {}: {}", site_, range.transfer, e.what());
    failed = ErrorReply(500, e.what());
    failed.close = true;
  }
  if (file == nullptr) co_return co_await Write(failed, false);
  http::response<http::empty_body> res{static_cast<http::status>(reply.status), 11};
  SetHeaders(res, reply, keep_alive);
  res.content_length(range.length);
  http::response_serializer<http::empty_body> serializer{res};
  beast::error_code ec;
  beast::get_lowest_layer(stream_).expires_after(link::kIoTimeout);
  co_await http::async_write_header(stream_, serializer, redirect_error(use_awaitable, ec));
  if (ec) co_return false;

  SitePacing& pacing = *routes_.Pacing(site_);
  SentCounter sent(routes_.state(), range, site_);
  const uint64_t slice = SliceBytes(range.rate);
  std::vector<uint8_t> buf(slice);
  for (uint64_t done = 0; done < range.length;) {
    uint64_t n = std::min(slice, range.length - done);
    auto now = steady_clock::now();
    auto wait = std::max(pacing.bucket.Reserve(n, now), routes_.hub_bucket().Reserve(n, now));
    if (wait > std::chrono::nanoseconds::zero() && !co_await Sleep(wait)) co_return false;
    try {
      file->ReadAt(range.offset + done, buf.data(), n);
    } catch (const Error& e) {
      spdlog::error("site {}: transfer {}: {}", site_, range.transfer, e.what());
      co_return false;  // the response is cut short: the agent notices and asks again
    }
    beast::get_lowest_layer(stream_).expires_after(link::kIoTimeout);
    co_await asio::async_write(stream_, asio::buffer(buf.data(), n), redirect_error(use_awaitable, ec));
    if (ec) co_return false;
    done += n;
    sent.Add(n);
  }
  sent.Flush();
  if (range.reaches_end && reply.status == 206) {
    spdlog::info("site {}: transfer {} (bundle {}) sent completely", site_, range.transfer, range.bundle_digest);
  }
  co_return true;
}

}  // namespace outpost::hub
