// The hub holding a fleet of long-polling agents, simulated in this one process: the hub's
// resident memory and CPU while every agent waits, and the time to hand each one a small bundle.
//
//   build/bench/link/fleet_bench [AGENTS]     (default 1000; about 3 minutes)
//
// Each simulated agent has its own site certificate, keeps one TLS connection, long-polls
// GET /v1/work, and when work appears fetches the head and payload and reports it applied,
// as `outpost agent` does (without applying anything).
#include <signal.h>
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast.hpp>
#include <boost/beast/ssl.hpp>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>
#include <vector>

#include "common/file.h"
#include "link/pki.h"
#include "link/tls.h"
#include "protocol/test_bundle.h"
#include "tests/link/process.h"
#include "tests/support/command.h"

namespace outpost::bench {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using Clock = std::chrono::steady_clock;
using testing::OutpostBinary;

struct Fleet {
  std::atomic<int> connected{0};
  std::atomic<int> done{0};
  std::vector<Clock::time_point> finished;  // per agent
  std::mutex mu;
};

using Stream = beast::ssl_stream<beast::tcp_stream>;

asio::awaitable<http::response<http::string_body>> Request(Stream& s, http::verb verb, std::string target,
                                                           std::string body, std::string range) {
  http::request<http::string_body> req{verb, target, 11};
  req.set(http::field::host, "127.0.0.1");
  req.set("Outpost-Protocol", "1");
  if (!range.empty()) req.set(http::field::range, range);
  if (!body.empty()) {
    req.set(http::field::content_type, "application/json");
    req.body() = std::move(body);
  }
  req.prepare_payload();
  beast::get_lowest_layer(s).expires_after(std::chrono::seconds(90));
  co_await http::async_write(s, req, asio::use_awaitable);
  beast::flat_buffer buf;
  http::response_parser<http::string_body> parser;
  parser.body_limit(64 << 20);
  co_await http::async_read(s, buf, parser, asio::use_awaitable);
  co_return parser.release();
}

// One simulated agent: connect, poll, fetch and report the first transfer, keep polling.
asio::awaitable<void> Agent(asio::ssl::context& ctx, int port, int index, Fleet& fleet) {
  auto ex = co_await asio::this_coro::executor;
  bool counted = false, finished = false;
  for (;;) {
    try {
      Stream s(ex, ctx);
      link::SetServerName(s.native_handle(), "127.0.0.1");
      beast::get_lowest_layer(s).expires_after(std::chrono::seconds(60));
      co_await beast::get_lowest_layer(s).async_connect(
          asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port)),
          asio::use_awaitable);
      co_await s.async_handshake(asio::ssl::stream_base::client, asio::use_awaitable);
      if (!counted) {
        counted = true;
        ++fleet.connected;
      }
      for (;;) {
        auto work = co_await Request(s, http::verb::get, "/v1/work?wait=55", "", "");
        auto list = nlohmann::json::parse(work.body()).at("transfers");
        if (list.empty() || finished) continue;
        std::string id = std::to_string(list[0].at("id").get<int64_t>());
        co_await Request(s, http::verb::get, "/v1/transfers/" + id + "/head", "", "");
        co_await Request(s, http::verb::get, "/v1/transfers/" + id + "/payload", "", "bytes=0-");
        co_await Request(s, http::verb::post, "/v1/transfers/" + id + "/result",
                         R"({"state":"failed","error":"fleet_bench: simulated agent applies nothing"})", "");
        finished = true;
        {
          std::lock_guard lock(fleet.mu);
          fleet.finished[index] = Clock::now();
        }
        ++fleet.done;
      }
    } catch (const std::exception&) {
      asio::steady_timer t(ex, std::chrono::seconds(1));
      co_await t.async_wait(asio::use_awaitable);
    }
  }
}

// The hub's resident set (kB) and its user+system CPU seconds, from /proc.
std::pair<long, double> Usage(pid_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  long rss = 0;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) rss = std::stol(line.substr(6));
  }
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string all((std::istreambuf_iterator<char>(stat)), {});
  std::istringstream rest(all.substr(all.rfind(')') + 2));
  std::vector<std::string> f{std::istream_iterator<std::string>(rest), {}};
  double ticks = std::stod(f[11]) + std::stod(f[12]);  // utime, stime
  return {rss, ticks / static_cast<double>(sysconf(_SC_CLK_TCK))};
}

int Run(int agents) {
  rlimit nofile{};
  getrlimit(RLIMIT_NOFILE, &nofile);
  nofile.rlim_cur = nofile.rlim_max;
  setrlimit(RLIMIT_NOFILE, &nofile);
  TempDir dir;
  auto pki = dir.path() / "pki";
  link::InitCa(pki);
  link::IssueCertificate(pki, "hub", {.hosts = {"127.0.0.1"}});
  int port = testing::FreePort();
  std::ofstream hub(dir.path() / "hub.yaml");
  hub << "listen: 127.0.0.1:" << port << "\nstate_dir: " << (dir.path() / "hub").string() << "\ntls: {ca: " << pki.string()
      << "/ca.pem, cert: " << pki.string() << "/hub.pem, key: " << pki.string() << "/hub.key}\nsites:\n";
  std::vector<asio::ssl::context> contexts;
  contexts.reserve(agents);
  for (int i = 0; i < agents; ++i) {
    std::string name = "site-" + std::to_string(i);
    link::IssueCertificate(pki, name, {});
    hub << "  - name: " << name << "\n";
    contexts.push_back(link::MakeClientContext({pki / "ca.pem", pki / (name + ".pem"), pki / (name + ".key")}));
  }
  hub.close();
  std::filesystem::create_directories(dir.path() / "hub");
  auto bundle = dir.path() / "small.bundle";
  protocol::testing::WriteTestBundle(dir.path(), bundle, std::string(16 << 10, 'x'), nullptr);
  testing::Process hubd({OutpostBinary(), "hub", "--config", (dir.path() / "hub.yaml").string()}, {},
                        dir.path() / "hub.log");

  Fleet fleet;
  fleet.finished.resize(agents);
  asio::io_context io;
  for (int i = 0; i < agents; ++i) asio::co_spawn(io, Agent(contexts[i], port, i, fleet), asio::detached);
  std::thread runner([&] { io.run(); });
  auto start = Clock::now();
  while (fleet.connected < agents && Clock::now() - start < std::chrono::minutes(3)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  double connect_s = std::chrono::duration<double>(Clock::now() - start).count();
  auto [rss0, cpu0] = Usage(hubd.pid());
  std::this_thread::sleep_for(std::chrono::seconds(60));
  auto [rss1, cpu1] = Usage(hubd.pid());

  std::vector<Clock::time_point> queued(agents);
  auto enqueue_start = Clock::now();
  for (int i = 0; i < agents; ++i) {
    queued[i] = Clock::now();
    testing::RunCommand(OutpostBinary() + " hub enqueue --config " + (dir.path() / "hub.yaml").string() + " --site site-" +
                        std::to_string(i) + " " + bundle.string());
  }
  double enqueue_s = std::chrono::duration<double>(Clock::now() - enqueue_start).count();
  while (fleet.done < agents && Clock::now() - enqueue_start < std::chrono::minutes(10)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  double all_s = std::chrono::duration<double>(Clock::now() - enqueue_start).count();
  std::vector<double> lat;
  {
    std::lock_guard lock(fleet.mu);
    for (int i = 0; i < agents; ++i) {
      if (fleet.finished[i] != Clock::time_point{}) lat.push_back(std::chrono::duration<double>(fleet.finished[i] - queued[i]).count());
    }
  }
  std::sort(lat.begin(), lat.end());
  auto pct = [&](double p) { return lat.empty() ? 0.0 : lat[std::min(lat.size() - 1, static_cast<size_t>(p * lat.size()))]; };
  auto [rss2, cpu2] = Usage(hubd.pid());
  std::printf("| agents | connected in | hub RSS idle | hub CPU idle (60 s) | enqueue all | handed off | hand-off p50 | p99 | max | hub RSS after |\n");
  std::printf("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
  std::printf("| %d | %.1f s | %.1f MiB | %.2f%% | %.1f s | %zu in %.1f s | %.2f s | %.2f s | %.2f s | %.1f MiB |\n", agents,
              connect_s, rss1 / 1024.0, 100 * (cpu1 - cpu0) / 60.0, enqueue_s, lat.size(), all_s, pct(0.5), pct(0.99),
              lat.empty() ? 0.0 : lat.back(), rss2 / 1024.0);
  hubd.Signal(SIGTERM);
  hubd.Wait(std::chrono::seconds(10));
  io.stop();
  runner.join();
  return lat.size() == static_cast<size_t>(agents) ? 0 : 1;
}

}  // namespace
}  // namespace outpost::bench

int main(int argc, char** argv) { return outpost::bench::Run(argc > 1 ? std::atoi(argv[1]) : 1000); }
