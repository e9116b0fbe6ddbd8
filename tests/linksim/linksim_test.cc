// outpost-linksim, the real binary, between in-test TCP clients and servers: every shaping
// option checked by what arrives, when, and by the counters of its stats file.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "common/file.h"
#include "tests/support/bytes.h"
#include "tests/support/command.h"

extern char** environ;

namespace outpost::testing {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;
using ::testing::HasSubstr;

const std::string kBinary = OUTPOST_BINARY_DIR "/tests/linksim/outpost-linksim";

// An owned socket.
class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(Fd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  Fd& operator=(Fd&&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

void SendAll(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n <= 0) return;
    data.remove_prefix(static_cast<size_t>(n));
  }
}

// What a client read, and when each piece arrived.
struct Received {
  std::string bytes;
  std::vector<std::pair<Clock::time_point, size_t>> arrivals;
};

// Reads until EOF, an error, `limit` bytes or (the receive timeout of Connect) 10 s of silence.
Received ReadToEnd(int fd, size_t limit = SIZE_MAX) {
  Received r;
  char buf[65536];
  while (r.bytes.size() < limit) {
    ssize_t n = ::recv(fd, buf, std::min(sizeof(buf), limit - r.bytes.size()), 0);
    if (n <= 0) break;
    r.bytes.append(buf, static_cast<size_t>(n));
    r.arrivals.emplace_back(Clock::now(), static_cast<size_t>(n));
  }
  return r;
}

Fd Connect(uint16_t port) {
  Fd fd(::socket(AF_INET, SOCK_STREAM, 0));
  timeval timeout{10, 0};
  ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0) << "port " << port;
  return fd;
}

// A TCP server on 127.0.0.1 (an ephemeral port) that runs `serve` on a thread per connection.
// The destructor stops accepting, shuts every connection down and joins.
class TestServer {
 public:
  explicit TestServer(std::function<void(int fd)> serve) : serve_(std::move(serve)) {
    listen_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(addr);
    EXPECT_EQ(::bind(listen_, reinterpret_cast<sockaddr*>(&addr), len), 0);
    EXPECT_EQ(::listen(listen_, 16), 0);
    ::getsockname(listen_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    acceptor_ = std::thread([this] { AcceptLoop(); });
  }
  ~TestServer() {
    ::shutdown(listen_, SHUT_RDWR);
    acceptor_.join();
    ::close(listen_);
    std::lock_guard lock(mu_);
    for (int fd : fds_) ::shutdown(fd, SHUT_RDWR);
    for (auto& t : threads_) t.join();
    for (int fd : fds_) ::close(fd);
  }
  uint16_t port() const { return port_; }

 private:
  void AcceptLoop() {
    for (;;) {
      int fd = ::accept(listen_, nullptr, nullptr);
      if (fd < 0) return;
      std::lock_guard lock(mu_);
      fds_.push_back(fd);
      threads_.emplace_back([this, fd] { serve_(fd); });
    }
  }

  std::function<void(int)> serve_;
  int listen_ = -1;
  uint16_t port_ = 0;
  std::mutex mu_;
  std::vector<int> fds_;
  std::vector<std::thread> threads_;
  std::thread acceptor_;
};

// Sends back what it reads until EOF, then closes its sending side.
void Echo(int fd) {
  char buf[65536];
  ssize_t n;
  while ((n = ::recv(fd, buf, sizeof(buf), 0)) > 0) SendAll(fd, std::string_view(buf, static_cast<size_t>(n)));
  ::shutdown(fd, SHUT_WR);
}

// Sends `payload` on every connection, closes its sending side, then reads until EOF.
std::function<void(int)> Source(std::string payload) {
  return [payload = std::move(payload)](int fd) {
    SendAll(fd, payload);
    ::shutdown(fd, SHUT_WR);
    char buf[4096];
    while (::recv(fd, buf, sizeof(buf), 0) > 0) {
    }
  };
}

// The outpost-linksim process, with a port, stats and control file in a temp dir.
class Linksim {
 public:
  explicit Linksim(std::vector<std::string> args) : started_(Clock::now()) {
    args.insert(args.end(), {"--listen", "0", "--port-file", Path("port").string(), "--stats-file",
                             Path("stats.json").string(), "--control-file", Path("control").string()});
    std::vector<char*> argv{const_cast<char*>(kBinary.c_str())};
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 2, Path("stderr").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    EXPECT_EQ(::posix_spawn(&pid_, kBinary.c_str(), &actions, nullptr, argv.data(), environ), 0);
    posix_spawn_file_actions_destroy(&actions);
    for (int i = 0; i < 500 && !fs::exists(Path("port")); ++i) std::this_thread::sleep_for(milliseconds(10));
    port_ = static_cast<uint16_t>(std::stoi(ReadFileToString(Path("port"))));
  }
  ~Linksim() {
    if (pid_ > 0) Stop();
  }
  uint16_t port() const { return port_; }
  // When the process was started (its black-hole times count from a little later).
  Clock::time_point started() const { return started_; }

  // The stats file once `done` holds for it (or as it is after 5 s).
  nlohmann::json StatsWhen(const std::function<bool(const nlohmann::json&)>& done) const {
    nlohmann::json stats;
    for (int i = 0; i < 100; ++i) {
      stats = nlohmann::json::parse(ReadFileToString(Path("stats.json")), nullptr, false);
      if (!stats.is_discarded() && done(stats)) break;
      std::this_thread::sleep_for(milliseconds(50));
    }
    return stats;
  }
  // Runs a control command (a counter on the second line makes every write a change).
  void Control(const std::string& command) {
    WriteFileAtomic(Path("control"), command + "\n" + std::to_string(++commands_) + "\n");
  }
  // SIGTERM; expects exit status 0 (also: no sanitizer report) and returns what the process
  // printed on stderr. The destructor stops it so when a test has not.
  std::string Stop() {
    ::kill(pid_, SIGTERM);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
    std::string err = ReadFileToString(Path("stderr"));
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "wait status " << status << ", stderr:\n" << err;
    return err;
  }

 private:
  fs::path Path(const std::string& name) const { return dir_.path() / name; }

  TempDir dir_;
  Clock::time_point started_;
  pid_t pid_ = -1;
  uint16_t port_ = 0;
  int commands_ = 0;
};

std::string Upstream(const TestServer& server) { return "127.0.0.1:" + std::to_string(server.port()); }

// Connects through `link`, reads everything the upstream sends and closes.
Received Download(const Linksim& link) {
  Fd fd = Connect(link.port());
  return ReadToEnd(fd.get());
}

double SecondsSince(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

TEST(Linksim, ForwardsBytesUnchangedBothWaysWithoutOptionsAndPrintsItsStatsOnSigterm) {
  TestServer echo(Echo);
  Linksim link({"--upstream", Upstream(echo)});
  std::string payload = RandomBytes(1 << 20, 1);
  Fd fd = Connect(link.port());
  std::thread writer([&] {
    SendAll(fd.get(), payload);
    ::shutdown(fd.get(), SHUT_WR);
  });
  Received back = ReadToEnd(fd.get());
  writer.join();
  EXPECT_TRUE(back.bytes == payload) << back.bytes.size() << " bytes came back";
  auto stats = link.StatsWhen([](const auto& s) { return s["bytes_down"] == 1 << 20 && s["bytes_up"] == 1 << 20; });
  EXPECT_EQ(stats["bytes_down"], 1 << 20);
  EXPECT_EQ(stats["bytes_up"], 1 << 20);
  EXPECT_EQ(stats["connections"], 1);
  EXPECT_EQ(stats["cuts"], 0);
  EXPECT_EQ(stats["corrupted"], false);
  std::string err = link.Stop();
  EXPECT_THAT(err, HasSubstr(R"({"bytes_down":1048576,"bytes_up":1048576,"connections":1,"cuts":0,)"));
}

TEST(Linksim, HoldsTheDownRateSharedByAllConnections) {
  TestServer source(Source(RandomBytes(100000, 2)));
  Linksim link({"--upstream", Upstream(source), "--rate-down", "100000"});
  Clock::time_point start = Clock::now();
  Received a, b;
  std::thread other([&] { b = Download(link); });
  a = Download(link);
  other.join();
  double seconds = SecondsSince(start);
  EXPECT_EQ(a.bytes.size() + b.bytes.size(), 200000u);
  EXPECT_GE(seconds, 1.8);  // 200 KB at 100 KB/s, less one 5 KB slice of burst
  EXPECT_LT(seconds, 3.5);
}

TEST(Linksim, HoldsTheUpRate) {
  TestServer echo(Echo);
  Linksim link({"--upstream", Upstream(echo), "--rate-up", "50000"});
  Fd fd = Connect(link.port());
  Clock::time_point start = Clock::now();
  SendAll(fd.get(), RandomBytes(50000, 3));
  EXPECT_EQ(ReadToEnd(fd.get(), 50000).bytes.size(), 50000u);
  EXPECT_GE(SecondsSince(start), 0.9);
}

TEST(Linksim, AddsTheLatencyToEachDirection) {
  TestServer echo(Echo);
  Linksim link({"--upstream", Upstream(echo), "--latency-ms", "300"});
  Fd fd = Connect(link.port());
  Clock::time_point start = Clock::now();
  SendAll(fd.get(), "ping");
  EXPECT_EQ(ReadToEnd(fd.get(), 4).bytes, "ping");
  double seconds = SecondsSince(start);
  EXPECT_GE(seconds, 0.6);  // up, then down
  EXPECT_LT(seconds, 1.5);
}

TEST(Linksim, CutEveryClosesAtEachBoundaryOfTheTotalDownBytes) {
  std::string payload = RandomBytes(25000, 4);
  TestServer source(Source(payload));
  Linksim link({"--upstream", Upstream(source), "--cut-every", "40000"});
  // Totals 25000 (whole), 40000 (cut), 65000 (whole), 80000 (cut).
  for (size_t expected : {25000u, 15000u, 25000u, 15000u}) {
    EXPECT_TRUE(Download(link).bytes == payload.substr(0, expected)) << "expected " << expected << " bytes";
  }
  auto stats = link.StatsWhen([](const auto& s) { return s["cuts"] == 2 && s["bytes_down"] == 80000; });
  EXPECT_EQ(stats["cuts"], 2);
  EXPECT_EQ(stats["bytes_down"], 80000);
  EXPECT_EQ(stats["connections"], 4);
}

TEST(Linksim, CutAfterCutsOnlyOnce) {
  std::string payload = RandomBytes(50000, 5);
  TestServer source(Source(payload));
  Linksim link({"--upstream", Upstream(source), "--cut-after", "20000"});
  EXPECT_TRUE(Download(link).bytes == payload.substr(0, 20000));
  EXPECT_TRUE(Download(link).bytes == payload);
  EXPECT_EQ(link.StatsWhen([](const auto& s) { return s["bytes_down"] == 70000; })["cuts"], 1);
}

TEST(Linksim, ABlackholeFromTheControlFileForwardsNothingForItsDurationThenResumes) {
  std::string payload = RandomBytes(300000, 6);
  TestServer source(Source(payload));
  Linksim link({"--upstream", Upstream(source), "--rate-down", "100000"});
  Received got;
  std::thread reader([&] { got = Download(link); });
  std::this_thread::sleep_for(milliseconds(500));
  Clock::time_point ordered = Clock::now();
  link.Control("blackhole 1.5");
  reader.join();
  EXPECT_TRUE(got.bytes == payload) << got.bytes.size() << " bytes";
  // The command is seen within a poll (100 ms); then nothing arrives until it ends.
  size_t during = 0, after = 0;
  for (auto [when, n] : got.arrivals) {
    if (when > ordered + milliseconds(300) && when < ordered + milliseconds(1500)) during += n;
    if (when >= ordered + milliseconds(1500)) after += n;
  }
  EXPECT_EQ(during, 0u);
  EXPECT_GT(after, 100000u);  // the connection stayed open and forwarding resumed
  auto stats = link.StatsWhen([](const auto& s) { return s["bytes_down"] == 300000; });
  EXPECT_GE(stats["blackholed_ms"], 1400);
  EXPECT_LE(stats["blackholed_ms"], 1600);
}

TEST(Linksim, ABlackholeAtStartAcceptsConnectionsButForwardsNothingUntilItEnds) {
  TestServer echo(Echo);
  Linksim link({"--upstream", Upstream(echo), "--blackhole-at", "0", "--blackhole-for", "1.5"});
  Fd fd = Connect(link.port());
  SendAll(fd.get(), "ping");
  EXPECT_EQ(ReadToEnd(fd.get(), 4).bytes, "ping");
  double seconds = SecondsSince(link.started());
  EXPECT_GE(seconds, 1.5);
  EXPECT_LT(seconds, 3.0);
}

TEST(Linksim, CorruptAtFlipsExactlyThatDownByteOnce) {
  std::string payload = RandomBytes(50000, 7);
  TestServer source(Source(payload));
  Linksim link({"--upstream", Upstream(source), "--corrupt-at", "12345"});
  std::string expected = payload;
  expected[12345] = static_cast<char>(expected[12345] ^ 0xFF);
  EXPECT_TRUE(Download(link).bytes == expected);
  EXPECT_TRUE(Download(link).bytes == payload);
  EXPECT_EQ(link.StatsWhen([](const auto& s) { return s["corrupted"] == true; })["corrupted"], true);
}

TEST(Linksim, ConnectProxyTunnelsToTheNamedHostAndCountsTheConnects) {
  TestServer echo(Echo);
  Linksim link({"--connect-proxy", "--cut-after", "1000000"});
  const std::string kOk = "HTTP/1.1 200 Connection established\r\n\r\n";
  for (int i = 0; i < 2; ++i) {
    Fd fd = Connect(link.port());
    SendAll(fd.get(), "CONNECT " + Upstream(echo) + " HTTP/1.1\r\nHost: " + Upstream(echo) + "\r\n\r\nhello");
    EXPECT_EQ(ReadToEnd(fd.get(), kOk.size() + 5).bytes, kOk + "hello");
  }
  Fd bad = Connect(link.port());
  SendAll(bad.get(), "GET / HTTP/1.1\r\n\r\n");
  EXPECT_THAT(ReadToEnd(bad.get()).bytes, ::testing::StartsWith("HTTP/1.1 400"));
  auto stats = link.StatsWhen([](const auto& s) { return s["connects"] == 2 && s["bytes_down"] == 10; });
  EXPECT_EQ(stats["connects"], 2);
  EXPECT_EQ(stats["bytes_down"], 10);  // the tunnelled bytes, not the proxy's answers
  EXPECT_EQ(stats["connections"], 3);
}

TEST(Linksim, ConnectProxyAnswers502WhenTheTargetIsUnreachable) {
  uint16_t closed_port;
  {
    TestServer gone([](int) {});
    closed_port = gone.port();
  }
  Linksim link({"--connect-proxy"});
  Fd fd = Connect(link.port());
  SendAll(fd.get(), "CONNECT 127.0.0.1:" + std::to_string(closed_port) + " HTTP/1.1\r\n\r\n");
  EXPECT_THAT(ReadToEnd(fd.get()).bytes, ::testing::StartsWith("HTTP/1.1 502"));
  EXPECT_EQ(link.StatsWhen([](const auto& s) { return s["connections"] == 1; })["connects"], 0);
}

TEST(Linksim, ControlCutClosesEveryCurrentConnection) {
  TestServer echo(Echo);
  Linksim link({"--upstream", Upstream(echo)});
  Fd a = Connect(link.port()), b = Connect(link.port());
  for (const Fd* fd : {&a, &b}) {
    SendAll(fd->get(), "ping");
    EXPECT_EQ(ReadToEnd(fd->get(), 4).bytes, "ping");
  }
  Clock::time_point ordered = Clock::now();
  link.Control("cut");
  EXPECT_EQ(ReadToEnd(a.get()).bytes, "");
  EXPECT_EQ(ReadToEnd(b.get()).bytes, "");
  EXPECT_LT(SecondsSince(ordered), 1.0);
  EXPECT_EQ(link.StatsWhen([](const auto& s) { return s["cuts"] == 2; })["cuts"], 2);
}

TEST(Linksim, ControlRateDownSetsANewDownRate) {
  TestServer source(Source(RandomBytes(150000, 8)));
  Linksim link({"--upstream", Upstream(source)});
  link.Control("rate-down 100000");
  std::this_thread::sleep_for(milliseconds(300));  // two polls
  Clock::time_point start = Clock::now();
  EXPECT_EQ(Download(link).bytes.size(), 150000u);
  EXPECT_GE(SecondsSince(start), 1.3);
}

TEST(Linksim, HelpTeachesWithAnExample) {
  RunResult r = RunCommand(kBinary + " --help");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_THAT(r.out, HasSubstr("Example"));
  EXPECT_THAT(r.out, HasSubstr("--cut-every"));
}

TEST(Linksim, RefusesABlackholeWithoutItsLength) {
  RunResult r = RunCommand(kBinary + " --upstream 127.0.0.1:1 --blackhole-at 1");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_THAT(r.err, HasSubstr("--blackhole-for"));
}

}  // namespace
}  // namespace outpost::testing
