#include "registry/http.h"

// Asio needs <utility> first with Boost 1.74 and GCC 12.
#include <utility>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>
#include <strings.h>

#include <algorithm>
#include <filesystem>
#include <limits>

namespace outpost::registry {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;

std::string FindHeader(const Headers& headers, std::string_view name) {
  for (const auto& [key, value] : headers) {
    if (key.size() == name.size() && strncasecmp(key.data(), name.data(), name.size()) == 0) {
      return value;
    }
  }
  return "";
}

namespace {

bool IsIpLiteral(const std::string& host) {
  beast::error_code ec;
  asio::ip::make_address(host, ec);
  return !ec;
}

// Loads the containers/image layout of a certificate directory into `ctx`.
void LoadCertDir(ssl::context& ctx, const std::string& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) throw InvalidArgument("--cert-dir ", dir, " is not a directory");
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const fs::directory_entry& entry = *it;
    std::string path = entry.path().string();
    try {
      if (entry.path().extension() == ".crt") {
        ctx.load_verify_file(path);
      } else if (entry.path().extension() == ".cert") {
        fs::path key = entry.path();
        key.replace_extension(".key");
        ctx.use_certificate_chain_file(path);
        ctx.use_private_key_file(key.string(), ssl::context::pem);
      }
    } catch (const boost::system::system_error& e) {
      throw SecurityError("cannot load TLS material ", path, ": ", e.what());
    }
  }
  if (ec) throw IOError("cannot list --cert-dir ", dir, ": ", ec.message());
}

std::string Where(const Url& origin) { return origin.scheme + "://" + origin.authority(); }

using Clock = std::chrono::steady_clock;

// "60 s", or "250 ms" for what is not whole seconds (test settings).
std::string Seconds(std::chrono::milliseconds d) {
  if (d.count() % 1000 == 0) return std::to_string(d.count() / 1000) + " s";
  return std::to_string(d.count()) + " ms";
}

}  // namespace

struct HttpConnection::Impl {
  asio::io_context ioc;
  ssl::context ctx{ssl::context::tls_client};
  std::unique_ptr<beast::tcp_stream> tcp;
  std::unique_ptr<beast::ssl_stream<beast::tcp_stream>> tls;
  beast::flat_buffer buffer;
  std::optional<http::response_parser<http::buffer_body>> parser;
  HttpDeadlines limits;
  bool keep_alive = false;
  // The current exchange: when it must end, and the body's rate window (time spent waiting for
  // the peer in this window, and the bytes it brought).
  std::chrono::milliseconds exchange_budget{0};
  Clock::time_point exchange_end = Clock::time_point::max();
  Clock::duration waited{};
  uint64_t window_bytes = 0;
  std::string exchange;  // "GET https://host/v2/...", for messages about the response

  beast::tcp_stream& Lowest() { return tls ? beast::get_lowest_layer(*tls) : *tcp; }
  bool connected() const { return tcp || tls; }

  // When the next network step must end: within `operation`, and within the exchange.
  Clock::time_point StepEnd(Clock::time_point now) const { return std::min(now + limits.operation, exchange_end); }

  // Runs one asynchronous operation to completion by `until`, so that every network step
  // (connect, handshake, write, read) times out.
  template <class Start>
  beast::error_code Run(Clock::time_point until, Start start) {
    beast::error_code result = asio::error::would_block;
    Lowest().expires_at(until);
    start([&result](beast::error_code ec, auto&&...) { result = ec; });
    ioc.restart();
    ioc.run();
    return result;
  }
  template <class Start>
  beast::error_code Run(Start start) {
    return Run(StepEnd(Clock::now()), start);
  }

  // What a timed-out step ran into, for the error message.
  std::string TimeoutReason() const {
    if (Clock::now() >= exchange_end) return "the exchange did not finish within " + Seconds(exchange_budget);
    if (waited >= limits.rate_window && window_bytes < limits.min_rate_bytes) {
      return Concat("fewer than ", std::to_string(limits.min_rate_bytes), " bytes arrived in ",
                    Seconds(limits.rate_window), " (too slow)");
    }
    return "no progress within " + Seconds(limits.operation);
  }
  std::string Explain(const beast::error_code& ec) const {
    return ec == beast::error::timeout ? TimeoutReason() : ec.message();
  }

  template <class F>
  beast::error_code OnStream(F f) {
    return tls ? f(*tls) : f(*tcp);
  }

  void Connect(const Url& origin);
};

HttpConnection::HttpConnection(Url origin, TlsOptions tls, HttpDeadlines deadlines)
    : origin_(std::move(origin)), impl_(std::make_unique<Impl>()) {
  impl_->limits = deadlines;
  if (origin_.scheme == "https") {
    impl_->ctx.set_default_verify_paths();
    if (!tls.cert_dir.empty()) LoadCertDir(impl_->ctx, tls.cert_dir);
    impl_->ctx.set_verify_mode(tls.verify ? ssl::verify_peer : ssl::verify_none);
  }
}

HttpConnection::~HttpConnection() = default;

void HttpConnection::Close() {
  impl_->parser.reset();
  impl_->tls.reset();
  impl_->tcp.reset();
  impl_->buffer.clear();
}


HttpResponse HttpConnection::Send(const HttpRequest& request) {
  Impl& im = *impl_;
  http::request<http::buffer_body> req;
  http::verb verb = http::string_to_verb(request.method);
  if (verb == http::verb::unknown) throw InvalidArgument("unknown HTTP method ", request.method);
  req.method(verb);
  req.target(request.url.target);
  req.version(11);
  req.set(http::field::host, origin_.authority());
  req.set(http::field::user_agent, "outpost");
  for (const auto& [key, value] : request.headers) req.insert(key, value);
  req.body().data = const_cast<char*>(request.body.data());
  req.body().size = request.body.size();
  req.body().more = false;
  if (!request.body.empty() || verb == http::verb::put || verb == http::verb::post ||
      verb == http::verb::patch) {
    req.content_length(request.body.size());
  }

  im.exchange = request.method + " " + Where(origin_) + request.url.target;
  im.exchange_budget = request.deadline;
  im.exchange_end = request.deadline.count() > 0 ? Clock::now() + request.deadline : Clock::time_point::max();
  for (int attempt = 0;; ++attempt) {
    bool reused = im.connected();
    if (!reused) im.Connect(origin_);
    // The serializer consumes the body pointers; reset them for a second try.
    req.body().data = const_cast<char*>(request.body.data());
    req.body().size = request.body.size();
    beast::error_code ec = im.OnStream([&](auto& stream) {
      return im.Run([&](auto handler) { http::async_write(stream, req, handler); });
    });
    if (!ec) {
      im.parser.emplace();
      im.parser->body_limit(std::numeric_limits<uint64_t>::max());
      im.parser->header_limit(64 << 10);
      if (verb == http::verb::head) im.parser->skip(true);
      ec = im.OnStream([&](auto& stream) {
        return im.Run([&](auto handler) {
          http::async_read_header(stream, im.buffer, *im.parser, handler);
        });
      });
    }
    if (ec) {
      Close();
      // A kept-alive connection the server already closed: reconnect once, but only for requests
      // that are safe to repeat blindly (a repeated PATCH or POST could land twice; the upload
      // code asks the registry where it stands instead).
      bool repeatable = verb != http::verb::patch && verb != http::verb::post;
      if (reused && repeatable && attempt == 0 && ec != beast::error::timeout) continue;
      throw NetworkError(im.exchange, ": ", im.Explain(ec));
    }
    break;
  }
  im.waited = {};
  im.window_bytes = 0;
  HttpResponse out;
  const auto& res = im.parser->get();
  out.status = static_cast<int>(res.result_int());
  for (const auto& field : res) out.headers.emplace_back(field.name_string(), field.value());
  im.keep_alive = res.keep_alive();
  if (im.parser->is_done() && !im.keep_alive) Close();
  return out;
}

void HttpConnection::Impl::Connect(const Url& origin) {
  Impl& im = *this;
  tcp::resolver resolver(im.ioc);
  beast::error_code ec;
  auto endpoints = resolver.resolve(origin.host, origin.port, ec);
  if (ec) throw NetworkError("cannot resolve ", origin.host, ": ", ec.message());
  if (origin.scheme == "https") {
    im.tls = std::make_unique<beast::ssl_stream<beast::tcp_stream>>(im.ioc, im.ctx);
    SSL* ssl = im.tls->native_handle();
    if (IsIpLiteral(origin.host)) {
      X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), origin.host.c_str());
    } else {
      // SSL_set_tlsext_host_name without its C cast.
      SSL_ctrl(ssl, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
               const_cast<char*>(origin.host.c_str()));
      X509_VERIFY_PARAM_set1_host(SSL_get0_param(ssl), origin.host.c_str(), 0);
    }
  } else {
    im.tcp = std::make_unique<beast::tcp_stream>(im.ioc);
  }
  ec = im.Run([&](auto handler) { im.Lowest().async_connect(endpoints, handler); });
  if (ec) {
    im.tls.reset();
    im.tcp.reset();
    throw NetworkError("cannot connect to ", Where(origin), ": ", Explain(ec));
  }
  if (!im.tls) return;
  ec = im.Run([&](auto handler) { im.tls->async_handshake(ssl::stream_base::client, handler); });
  if (!ec) return;
  long verify = SSL_get_verify_result(im.tls->native_handle());
  im.tls.reset();
  if (verify != X509_V_OK) {
    throw SecurityError("TLS certificate of ", Where(origin), " is not trusted: ",
                        X509_verify_cert_error_string(verify),
                        " (add its CA with --cert-dir, or --tls-verify=false)");
  }
  throw TlsHandshakeError(Concat("TLS handshake with ", Where(origin), " failed: ", Explain(ec)));
}

size_t HttpConnection::ReadBody(uint8_t* buf, size_t n) {
  Impl& im = *impl_;
  if (!im.parser || im.parser->is_done() || n == 0) return 0;
  auto& body = im.parser->get().body();
  body.data = buf;
  body.size = n;
  for (;;) {
    if (im.waited >= im.limits.rate_window) {  // a rate window is over: did it bring enough?
      if (im.window_bytes < im.limits.min_rate_bytes) {
        Close();
        throw NetworkError(im.exchange, ": reading the response body: ", im.TimeoutReason());
      }
      im.waited = {};
      im.window_bytes = 0;
    }
    Clock::time_point start = Clock::now();
    Clock::time_point until = im.StepEnd(start);
    if (im.window_bytes < im.limits.min_rate_bytes) {
      until = std::min(until, start + (im.limits.rate_window - im.waited));
    }
    beast::error_code ec = im.OnStream([&](auto& stream) {
      return im.Run(until, [&](auto handler) {
        http::async_read_some(stream, im.buffer, *im.parser, handler);
      });
    });
    im.waited += Clock::now() - start;
    im.window_bytes += n - body.size;
    if (ec == http::error::need_buffer) ec = {};
    if (ec) {
      std::string reason = im.Explain(ec);
      Close();
      throw NetworkError(im.exchange, ": reading the response body: ", reason);
    }
    size_t got = n - body.size;
    bool done = im.parser->is_done();
    if (done && !im.keep_alive) Close();
    if (got > 0 || done) return got;
  }
}

std::string HttpConnection::ReadBodyString(size_t limit) {
  std::string out;
  uint8_t buf[16 << 10];
  while (size_t got = ReadBody(buf, sizeof(buf))) {
    if (out.size() + got > limit) {
      Close();
      throw Corruption(impl_->exchange, ": response larger than ", std::to_string(limit),
                       " bytes");
    }
    out.append(reinterpret_cast<const char*>(buf), got);
  }
  return out;
}

void HttpConnection::DiscardBody() {
  auto length = content_length();
  if (impl_->parser && !impl_->parser->is_done() && (!length || *length > (1 << 20))) {
    Close();
    return;
  }
  ReadBodyString(1 << 20);
}

std::optional<uint64_t> HttpConnection::content_length() const {
  if (!impl_->parser) return std::nullopt;
  auto length = impl_->parser->content_length();
  if (!length) return std::nullopt;
  return *length;
}

}  // namespace outpost::registry
