#include "tests/registry/fake_http_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <stdexcept>

namespace outpost::testing {

std::string StatusLine(int status) { return "HTTP/1.1 " + std::to_string(status) + " X\r\n"; }

bool FakeConnection::Send(std::string_view bytes) {
  while (!bytes.empty()) {
    if (stopping_) return false;
    ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n <= 0) return false;
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

bool FakeConnection::Reply(int status, std::string_view body,
                           const std::vector<std::pair<std::string, std::string>>& headers) {
  std::string head = StatusLine(status);
  for (const auto& [key, value] : headers) head += key + ": " + value + "\r\n";
  head += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n";
  return Send(head) && Send(body);
}

FakeHttpServer::FakeHttpServer(Handler handler) : handler_(std::move(handler)) {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  if (listen_fd_ < 0 || ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), len) != 0 ||
      ::listen(listen_fd_, 16) != 0 || ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    throw std::runtime_error("fake server: cannot listen on 127.0.0.1");
  }
  port_ = ntohs(addr.sin_port);
  acceptor_ = std::thread([this] { Accept(); });
}

FakeHttpServer::~FakeHttpServer() {
  stopping_ = true;
  ::shutdown(listen_fd_, SHUT_RDWR);
  acceptor_.join();
  ::close(listen_fd_);
  std::lock_guard lock(mu_);  // the acceptor has ended: nothing else adds connections
  for (int fd : fds_) ::shutdown(fd, SHUT_RDWR);
  for (auto& t : threads_) t.join();
  for (int fd : fds_) ::close(fd);
}

void FakeHttpServer::Accept() {
  for (;;) {
    int fd = ::accept(listen_fd_, nullptr, nullptr);
    if (fd < 0 || stopping_) {
      if (fd >= 0) ::close(fd);
      return;
    }
    std::lock_guard lock(mu_);
    fds_.push_back(fd);
    threads_.emplace_back([this, fd] { Serve(fd); });
  }
}

namespace {

// Reads one request from `fd` into `req`, keeping what follows it in `buffer`. False when the
// client hung up or did not speak HTTP.
bool ReadRequest(int fd, std::string& buffer, FakeRequest& req) {
  char chunk[4096];
  size_t end;
  while ((end = buffer.find("\r\n\r\n")) == std::string::npos) {
    if (!buffer.empty() && !std::isupper(static_cast<unsigned char>(buffer[0]))) return false;  // TLS
    if (buffer.size() > (64 << 10)) return false;
    ssize_t n = ::recv(fd, chunk, sizeof(chunk), 0);
    if (n <= 0) return false;
    buffer.append(chunk, static_cast<size_t>(n));
  }
  std::string head = buffer.substr(0, end);
  buffer.erase(0, end + 4);
  size_t line_end = head.find("\r\n");
  std::string line = head.substr(0, line_end);
  size_t sp1 = line.find(' ');
  size_t sp2 = line.find(' ', sp1 + 1);
  if (sp1 == std::string::npos || sp2 == std::string::npos) return false;
  req = FakeRequest{line.substr(0, sp1), line.substr(sp1 + 1, sp2 - sp1 - 1), {}, ""};
  for (size_t pos = line_end; pos != std::string::npos && pos < head.size();) {
    size_t next = head.find("\r\n", pos + 2);
    std::string field = head.substr(pos + 2, next == std::string::npos ? std::string::npos : next - pos - 2);
    size_t colon = field.find(':');
    if (colon != std::string::npos) {
      std::string name = field.substr(0, colon);
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      size_t value = field.find_first_not_of(' ', colon + 1);
      req.headers[name] = value == std::string::npos ? "" : field.substr(value);
    }
    pos = next;
  }
  size_t length = req.headers.count("content-length") ? std::stoul(req.headers["content-length"]) : 0;
  while (buffer.size() < length) {
    ssize_t n = ::recv(fd, chunk, sizeof(chunk), 0);
    if (n <= 0) return false;
    buffer.append(chunk, static_cast<size_t>(n));
  }
  req.body = buffer.substr(0, length);
  buffer.erase(0, length);
  return true;
}

}  // namespace

void FakeHttpServer::Serve(int fd) {
  FakeConnection conn(fd, stopping_);
  std::string buffer;
  FakeRequest req;
  while (!stopping_ && ReadRequest(fd, buffer, req) && handler_(req, conn)) {
  }
  ::shutdown(fd, SHUT_RDWR);  // the client sees the end; the destructor closes the descriptor
}

}  // namespace outpost::testing
