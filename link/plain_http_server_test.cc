#include "link/plain_http_server.h"

#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <string>

namespace outpost::link {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;
using std::chrono::steady_clock;

// A raw client: sends `bytes` to 127.0.0.1:port, then reads until the server closes (or 5 s).
class RawClient {
 public:
  explicit RawClient(uint16_t port) : fd_(::socket(AF_INET, SOCK_STREAM, 0)) {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    timeval tv{5, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  }
  ~RawClient() { ::close(fd_); }
  bool connected() const { return connected_; }
  void Send(const std::string& bytes) { (void)!::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL); }
  std::string ReadToEnd() {
    std::string out;
    char buf[4096];
    for (ssize_t n; (n = ::recv(fd_, buf, sizeof(buf), 0)) > 0;) out.append(buf, static_cast<size_t>(n));
    return out;
  }

 private:
  int fd_;
  bool connected_ = false;
};

PlainReply Echo(const PlainRequest& request) {
  if (request.target() == "/boom") throw std::runtime_error("the handler broke");
  return {200, "text/plain", std::string(request.method_string()) + " " + std::string(request.target()) + " " + request.body()};
}

std::string Exchange(uint16_t port, const std::string& request) {
  RawClient client(port);
  client.Send(request);
  return client.ReadToEnd();
}

TEST(PlainHttpServer, AnswersARequestThroughItsHandler) {
  PlainHttpServer server("test http", "127.0.0.1", 0, Echo);
  server.Start();
  std::string response = Exchange(server.port(), "POST /hook HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nConnection: close\r\n\r\nhi");
  EXPECT_THAT(response, StartsWith("HTTP/1.1 200"));
  EXPECT_THAT(response, HasSubstr("POST /hook hi"));
}

TEST(PlainHttpServer, RefusesABodyOverTheLimitWith413BeforeReadingIt) {
  PlainHttpLimits limits;
  limits.max_body_bytes = 1024;
  PlainHttpServer server("test http", "127.0.0.1", 0, Echo, limits);
  server.Start();
  std::string response = Exchange(server.port(), "POST /hook HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n" + std::string(5000, 'a'));
  EXPECT_THAT(response, StartsWith("HTTP/1.1 413"));
}

TEST(PlainHttpServer, AnswersAMalformedRequestWith400) {
  PlainHttpServer server("test http", "127.0.0.1", 0, Echo);
  server.Start();
  EXPECT_THAT(Exchange(server.port(), "GARBAGE\x01 / HTTP/9\r\n\r\n"), StartsWith("HTTP/1.1 400"));
}

TEST(PlainHttpServer, RefusesAHeaderBlockOverTheLimitWith431) {
  PlainHttpServer server("test http", "127.0.0.1", 0, Echo);
  server.Start();
  std::string response = Exchange(server.port(), "GET / HTTP/1.1\r\nX-Big: " + std::string(10000, 'b') + "\r\n\r\n");
  EXPECT_THAT(response, StartsWith("HTTP/1.1 431"));
}

TEST(PlainHttpServer, TurnsAHandlerExceptionIntoA500) {
  PlainHttpServer server("test http", "127.0.0.1", 0, Echo);
  server.Start();
  EXPECT_THAT(Exchange(server.port(), "GET /boom HTTP/1.1\r\nConnection: close\r\n\r\n"), StartsWith("HTTP/1.1 500"));
}

TEST(PlainHttpServer, ClosesAConnectionThatSendsNothingWithinTheTimeout) {
  PlainHttpLimits limits;
  limits.io_timeout = std::chrono::milliseconds(200);
  PlainHttpServer server("test http", "127.0.0.1", 0, Echo, limits);
  server.Start();
  RawClient idle(server.port());
  auto start = steady_clock::now();
  EXPECT_EQ(idle.ReadToEnd(), "");
  EXPECT_LT(steady_clock::now() - start, std::chrono::seconds(3));
}

TEST(PlainHttpServer, StopEndsOpenConnectionsAndReturnsPromptly) {
  PlainHttpServer server("test http", "127.0.0.1", 0, Echo);
  server.Start();
  RawClient idle(server.port());
  ASSERT_TRUE(idle.connected());
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  auto start = steady_clock::now();
  server.Stop();
  EXPECT_LT(steady_clock::now() - start, std::chrono::seconds(2));
  EXPECT_EQ(idle.ReadToEnd(), "");
  EXPECT_FALSE(RawClient(server.port()).connected());
}

}  // namespace
}  // namespace outpost::link
