#include "tests/linksim/connection.h"

#include <array>
#include <cstdio>

#include "tests/linksim/connect_request.h"

namespace outpost::linksim {
namespace {

constexpr auto kLingerLimit = std::chrono::seconds(1);

// A socket closed gently after a cut: FIN once everything written to it has gone out, then
// whatever the peer still sends is read and dropped (closing with unread bytes would send a
// RST that can destroy the bytes not yet delivered) until it closes or kLingerLimit passes.
class Lingering : public std::enable_shared_from_this<Lingering> {
 public:
  explicit Lingering(tcp::socket socket) : socket_(std::move(socket)), timer_(socket_.get_executor()) {}

  void Start() {
    boost::system::error_code ignored;
    socket_.shutdown(tcp::socket::shutdown_send, ignored);
    timer_.expires_after(kLingerLimit);
    timer_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
      if (!ec) self->socket_.close();
    });
    Drain();
  }

 private:
  void Drain() {
    socket_.async_read_some(asio::buffer(buffer_), [self = shared_from_this()](boost::system::error_code ec, size_t) {
      if (!ec) return self->Drain();
      self->timer_.cancel();
      boost::system::error_code ignored;
      self->socket_.close(ignored);
    });
  }

  tcp::socket socket_;
  asio::steady_timer timer_;
  std::array<char, 4096> buffer_;
};

void Linger(tcp::socket& socket) {
  if (!socket.is_open()) return;
  std::make_shared<Lingering>(std::move(socket))->Start();
}

}  // namespace

Connection::Connection(LinkState& link, tcp::socket client)
    : link_(link),
      client_(std::move(client)),
      upstream_(client_.get_executor()),
      resolver_(client_.get_executor()),
      down_(*this, link, Pump::Direction::kDown, upstream_, client_),
      up_(*this, link, Pump::Direction::kUp, client_, upstream_) {
  link_.open.insert(this);
}

Connection::~Connection() {
  if (!closed_) link_.open.erase(this);
}

void Connection::Start() {
  if (link_.options.connect_proxy) return ReadConnectHead();
  Dial(link_.options.upstream_host, link_.options.upstream_port, "");
}

void Connection::ReadConnectHead() {
  size_t old_size = head_.size();
  head_.resize(kMaxConnectHead);
  client_.async_read_some(asio::buffer(head_.data() + old_size, head_.size() - old_size),
                          [this, self = shared_from_this(), old_size](boost::system::error_code ec, size_t n) {
                            head_.resize(old_size + n);
                            if (ec || closed_) return Close();
                            std::optional<size_t> end = ConnectHeadEnd(head_);
                            if (end) return OnConnectHead(head_.substr(0, *end), head_.substr(*end));
                            if (head_.size() >= kMaxConnectHead) {
                              return Answer("HTTP/1.1 431 Request Header Fields Too Large\r\n\r\n", true, "");
                            }
                            ReadConnectHead();
                          });
}

void Connection::OnConnectHead(const std::string& head, std::string rest) {
  std::optional<ConnectTarget> target = ParseConnectHead(head);
  if (!target) return Answer("HTTP/1.1 400 Bad Request\r\n\r\n", true, "");
  Dial(target->host, target->port, std::move(rest));
}

void Connection::Dial(const std::string& host, uint16_t port, std::string early) {
  resolver_.async_resolve(
      host, std::to_string(port),
      [this, self = shared_from_this(), early = std::move(early)](boost::system::error_code ec,
                                                                   tcp::resolver::results_type endpoints) mutable {
        if (closed_) return;
        if (ec) return DialFailed();
        asio::async_connect(upstream_, endpoints,
                            [this, self, early = std::move(early)](boost::system::error_code ec2, const tcp::endpoint&) mutable {
                              if (closed_) return;
                              if (ec2) return DialFailed();
                              if (!link_.options.connect_proxy) return Forward(std::move(early));
                              ++link_.stats.connects;
                              Answer("HTTP/1.1 200 Connection established\r\n\r\n", false, std::move(early));
                            });
      });
}

void Connection::DialFailed() {
  if (link_.options.connect_proxy) return Answer("HTTP/1.1 502 Bad Gateway\r\n\r\n", true, "");
  Close();
}

void Connection::Answer(std::string response, bool then_close, std::string early) {
  auto text = std::make_shared<std::string>(std::move(response));
  asio::async_write(client_, asio::buffer(*text),
                    [this, self = shared_from_this(), text, then_close, early = std::move(early)](
                        boost::system::error_code ec, size_t) mutable {
                      if (closed_) return;
                      if (ec) return Close();
                      if (then_close) return CloseGently();
                      Forward(std::move(early));
                    });
}

void Connection::Forward(std::string early) {
  client_.non_blocking(true);
  upstream_.non_blocking(true);
  boost::system::error_code ignored;
  client_.set_option(tcp::no_delay(true), ignored);
  upstream_.set_option(tcp::no_delay(true), ignored);
  down_.Start("");
  up_.Start(std::move(early));
}

void Connection::Shutdown() {
  closed_ = true;
  link_.open.erase(this);
  down_.Stop();
  up_.Stop();
  resolver_.cancel();
  boost::system::error_code ignored;
  client_.cancel(ignored);
  upstream_.cancel(ignored);
}

void Connection::Cut() {
  if (closed_) return;
  ++link_.stats.cuts;
  CloseGently();
}

void Connection::CloseGently() {
  Shutdown();
  Linger(client_);
  Linger(upstream_);
}

void Connection::Close() {
  if (closed_) return;
  Shutdown();
  boost::system::error_code ignored;
  client_.close(ignored);
  upstream_.close(ignored);
}

void Connection::OnPumpDone() {
  if (down_.done() && up_.done()) Close();
}

}  // namespace outpost::linksim
