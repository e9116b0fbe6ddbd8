#include "agent/hub_client.h"

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/http.hpp>

#include <limits>

#include "agent/wire.h"
#include "link/http.h"

namespace outpost::agent {
namespace {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using asio::use_awaitable;

constexpr size_t kMaxSmallBody = 4 << 20;
constexpr size_t kSliceBytes = 64 << 10;
// Beast speaks boost::string_view.
const boost::beast::string_view kVersionHeader(link::kProtocolHeader.data(), link::kProtocolHeader.size());

std::string_view View(boost::beast::string_view v) { return {v.data(), v.size()}; }

}  // namespace

void ThrowUnlessSuccess(const HubResponse& response, std::string_view what) {
  if (response.status >= 200 && response.status < 300) return;
  const std::string message = Concat("hub: ", what, ": ", std::to_string(response.status), ": ", ErrorText(response.body));
  if (response.status == 503 && response.retry_after) throw HubBusy(*response.retry_after, message);
  throw NetworkError(message);
}

struct HubClient::Exchange {
  http::verb verb;
  std::string target;
  std::string body;
  std::string range;
  std::optional<std::chrono::milliseconds> header_wait;
  std::function<bool(std::string_view)> sink;  // null: read the body into the response
};

HubClient::HubClient(asio::ssl::context& tls, Connector connect, std::string authority, std::chrono::milliseconds stall)
    : tls_(tls),
      connect_(std::move(connect)), authority_(std::move(authority)), stall_(stall), slice_(kSliceBytes) {}

HubClient::~HubClient() = default;

void HubClient::Close() {
  if (stream_) boost::beast::get_lowest_layer(*stream_).close();
}

asio::awaitable<void> HubClient::EnsureConnected() {
  if (stream_) co_return;
  stream_ = std::make_unique<HubStream>(co_await asio::this_coro::executor, tls_);
  try {
    co_await connect_(*stream_);  // Close() reaches the socket while this runs
  } catch (...) {
    Drop();
    throw;
  }
  buffer_.clear();
  ++connections_;
}

asio::awaitable<HubResponse> HubClient::Send(http::verb verb, const std::string& target, const std::string& body,
                                             std::optional<std::chrono::milliseconds> header_wait) {
  Exchange e{verb, target, body, "", header_wait, nullptr};
  co_return co_await Run(e);
}

asio::awaitable<HubResponse> HubClient::Stream(const std::string& target, const std::string& range,
                                               const std::function<bool(std::string_view)>& sink) {
  Exchange e{http::verb::get, target, "", range, std::nullopt, sink};
  co_return co_await Run(e);
}

asio::awaitable<HubResponse> HubClient::Run(Exchange& e) {
  co_await EnsureConnected();
  boost::beast::tcp_stream& tcp = boost::beast::get_lowest_layer(*stream_);
  auto fail = [&](std::string_view doing, const boost::system::error_code& ec) {
    Drop();
    const std::string why = ec == boost::beast::error::timeout ? "no progress for the stall timeout" : ec.message();
    return NetworkError("hub ", authority_, ": ", doing, " ", e.target, ": ", why);
  };
  boost::system::error_code ec;

  http::request<http::string_body> request(e.verb, e.target, 11);
  request.set(http::field::host, authority_);
  request.set(kVersionHeader, std::to_string(link::kProtocolVersion));
  if (!e.range.empty()) request.set(http::field::range, e.range);
  if (e.verb == http::verb::post) request.set(http::field::content_type, "application/json");
  request.body() = std::move(e.body);
  request.prepare_payload();
  tcp.expires_after(stall_);
  co_await http::async_write(*stream_, request, asio::redirect_error(use_awaitable, ec));
  if (ec) throw fail("sending", ec);

  http::response_parser<http::buffer_body> parser;
  parser.header_limit(link::kMaxHeaderBytes);
  parser.body_limit(std::numeric_limits<std::uint64_t>::max());  // not boost::none: 1.74 compares it as 0
  tcp.expires_after(e.header_wait ? *e.header_wait + stall_ : stall_);
  co_await http::async_read_header(*stream_, buffer_, parser, asio::redirect_error(use_awaitable, ec));
  if (ec) throw fail("reading the answer to", ec);

  const auto& header = parser.get();
  auto version = header.find(kVersionHeader);
  try {
    CheckProtocolVersion(version == header.end() ? std::nullopt : std::optional<std::string_view>(View(version->value())));
  } catch (...) {
    Drop();
    throw;
  }
  HubResponse response;
  response.status = header.result_int();
  if (auto it = header.find(http::field::retry_after); it != header.end()) response.retry_after = ParseRetryAfter(View(it->value()));
  if (auto it = header.find(http::field::content_range); it != header.end()) response.content_range = View(it->value());
  const bool to_sink = e.sink && response.status / 100 == 2;

  while (!parser.is_done()) {
    parser.get().body().data = slice_.data();
    parser.get().body().size = slice_.size();
    tcp.expires_after(stall_);
    co_await http::async_read_some(*stream_, buffer_, parser, asio::redirect_error(use_awaitable, ec));
    if (ec == http::error::need_buffer) ec = {};
    if (ec) throw fail("reading the body of", ec);
    const std::string_view piece(slice_.data(), slice_.size() - parser.get().body().size);
    if (!to_sink) {
      if (response.body.size() + piece.size() > kMaxSmallBody) {
        Drop();
        throw NetworkError("hub ", authority_, ": the answer to ", e.target, " is over 4 MiB");
      }
      response.body += piece;
      continue;
    }
    bool more = true;
    try {
      more = piece.empty() || e.sink(piece);
    } catch (...) {
      Drop();
      throw;
    }
    if (!more) {
      Drop();
      co_return response;
    }
  }
  if (!parser.keep_alive()) Drop();
  co_return response;
}

}  // namespace outpost::agent
