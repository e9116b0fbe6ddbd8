// A scripted HTTP/1.1 server on 127.0.0.1 for the registry client's fault tests: every request
// (request line, headers and a Content-Length body) is handed to the test's handler, which
// answers with whatever bytes it likes — a proper response, a trickle, an endless body, a
// connection closed mid-way. Anything that is not HTTP (a TLS ClientHello) is hung up on, so
// the client falls back to plain http on loopback. Each connection is served on a thread of
// its own; the destructor hangs up on them all and joins.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace outpost::testing {

struct FakeRequest {
  std::string method;
  std::string target;
  std::map<std::string, std::string> headers;  // names in lower case
  std::string body;
  std::string header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? "" : it->second;
  }
};

// The server's side of one connection.
class FakeConnection {
 public:
  explicit FakeConnection(int fd, const std::atomic<bool>& stopping) : fd_(fd), stopping_(stopping) {}
  // Writes `bytes`; false once the client has gone or the server is stopping.
  bool Send(std::string_view bytes);
  // Writes a whole response with a Content-Length (no body for HEAD is the caller's business).
  bool Reply(int status, std::string_view body, const std::vector<std::pair<std::string, std::string>>& headers = {});
  bool stopping() const { return stopping_; }

 private:
  int fd_;
  const std::atomic<bool>& stopping_;
};

class FakeHttpServer {
 public:
  // Answers one request; returns false to close the connection afterwards.
  using Handler = std::function<bool(const FakeRequest&, FakeConnection&)>;

  explicit FakeHttpServer(Handler handler);
  ~FakeHttpServer();
  FakeHttpServer(const FakeHttpServer&) = delete;
  FakeHttpServer& operator=(const FakeHttpServer&) = delete;

  // "127.0.0.1:PORT".
  std::string host() const { return "127.0.0.1:" + std::to_string(port_); }

 private:
  void Accept();
  void Serve(int fd);

  Handler handler_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::mutex mu_;
  std::vector<int> fds_;
  std::vector<std::thread> threads_;
  std::thread acceptor_;
};

// Reason phrases are not read by the client: every status gets "X".
std::string StatusLine(int status);

}  // namespace outpost::testing
