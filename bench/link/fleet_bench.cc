// The hub holding a fleet of long-polling agents, simulated in this one process: the hub's
// memory and CPU while every agent waits, and the time to hand each one a small bundle.
//
//   build/bench/link/fleet_bench [AGENTS [IDLE_SECONDS]]   (default 1000 and 60; ~3 minutes)
//
// A real `outpost hub` process serves AGENTS sites. Each simulated agent (an Asio coroutine; all
// of them on one thread) has its own site certificate, holds one TLS 1.3 connection and
// long-polls GET /v1/work as `outpost agent` does (docs/protocol.md). After the idle period the
// bench queues a small bundle for every site with `outpost hub enqueue`; each agent fetches the
// head and the payload by range, checks the byte count and the sha256 against the work list,
// acks, and reports a result (failed: it applies nothing) so the transfer leaves its queue.
#include <utility>  // before Asio: its 1.74 awaitable.hpp uses std::exchange unincluded

#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "common/digest.h"
#include "common/file.h"
#include "link/http.h"
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
using asio::redirect_error;
using asio::use_awaitable;
using Clock = std::chrono::steady_clock;
using Stream = beast::ssl_stream<beast::tcp_stream>;

constexpr int kPollWait = 55;                        // seconds, as `outpost agent` asks
constexpr std::chrono::seconds kStall{30};           // per read and write (link::kIoTimeout)
constexpr size_t kBundleLayerBytes = 4 << 10;        // the small bundle's one layer
constexpr const char* kHubHost = "127.0.0.1";
constexpr int kEnqueueWorkers = 4;                   // `outpost hub enqueue` commands at once

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

// What the simulated agents share with the main thread. Counters are atomics; the vectors are
// written by the agents' thread and read by the main thread only after it has joined.
struct Fleet {
  explicit Fleet(int agents) : handed_at(agents), connected_at(agents) {}
  std::atomic<int> held{0};         // connections open now
  std::atomic<int> connects{0};     // TLS handshakes completed, all agents together
  std::atomic<int> failures{0};     // dials, handshakes or exchanges that failed
  std::atomic<int> connected{0};    // agents that have connected at least once
  std::atomic<int> handed{0};       // agents that have their whole bundle, verified
  std::atomic<int> bad{0};          // agents whose bundle bytes did not match
  std::atomic<bool> stopping{false};
  std::vector<Clock::time_point> handed_at;
  std::vector<Clock::time_point> connected_at;
};

// One transfer of a work list (the first is all this bench queues).
struct WorkItem {
  int64_t id = 0;
  std::string bundle;  // sha256 of the whole file
  uint64_t head_bytes = 0, file_bytes = 0;
};

// The first transfer of a GET /v1/work body; nullopt when there is none. Sets *malformed for a
// body that is not the protocol's.
std::optional<WorkItem> FirstTransfer(const std::string& body, bool* malformed) {
  nlohmann::json j = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  *malformed = j.is_discarded() || !j.is_object() || !j.contains("transfers") || !j["transfers"].is_array();
  if (*malformed || j["transfers"].empty()) return std::nullopt;
  try {
    const nlohmann::json& t = j["transfers"][0];
    WorkItem w;
    w.id = t.at("id").get<int64_t>();
    w.bundle = t.at("bundle").get<std::string>();
    w.head_bytes = t.at("head_bytes").get<uint64_t>();
    w.file_bytes = t.at("file_bytes").get<uint64_t>();
    return w;
  } catch (const nlohmann::json::exception&) {
    *malformed = true;
    return std::nullopt;
  }
}

http::request<http::string_body> MakeRequest(http::verb verb, const std::string& target, const std::string& body,
                                             const std::string& range) {
  http::request<http::string_body> req{verb, target, 11};
  req.set(http::field::host, kHubHost);
  req.set(beast::string_view(link::kProtocolHeader.data(), link::kProtocolHeader.size()),
          std::to_string(link::kProtocolVersion));
  if (!range.empty()) req.set(http::field::range, range);
  if (verb == http::verb::post) req.set(http::field::content_type, "application/json");
  req.body() = body;
  req.prepare_payload();
  return req;
}

bool SpeaksOurVersion(const http::response<http::string_body>& res) {
  auto it = res.find(beast::string_view(link::kProtocolHeader.data(), link::kProtocolHeader.size()));
  return it != res.end() && it->value() == std::to_string(link::kProtocolVersion);
}

// One request and its whole response on a kept-alive connection. False on a network error, a
// response without our protocol version, or one the hub will not keep alive.
asio::awaitable<bool> Exchange(Stream& s, beast::flat_buffer& buffer, const http::request<http::string_body>& req,
                               std::chrono::seconds header_wait, http::response<http::string_body>& out) {
  beast::error_code ec;
  beast::get_lowest_layer(s).expires_after(kStall);
  co_await http::async_write(s, req, redirect_error(use_awaitable, ec));
  if (ec) co_return false;
  http::response_parser<http::string_body> parser;
  parser.header_limit(link::kMaxHeaderBytes);
  parser.body_limit(64 << 20);
  beast::get_lowest_layer(s).expires_after(header_wait + kStall);
  co_await http::async_read(s, buffer, parser, redirect_error(use_awaitable, ec));
  if (ec) co_return false;
  out = parser.release();
  co_return SpeaksOurVersion(out) && out.keep_alive();
}

// Fetches transfer `w` (head, then the payload by ranges as the hub grants them), checks its
// size and sha256, acks it and reports a result. False when the connection failed.
asio::awaitable<bool> Fetch(Stream& s, beast::flat_buffer& buffer, const WorkItem& w, int index, Fleet& fleet) {
  const std::string base = "/v1/transfers/" + std::to_string(w.id);
  const std::string none;
  http::response<http::string_body> res;
  const auto head = MakeRequest(http::verb::get, base + "/head", none, none);
  if (!co_await Exchange(s, buffer, head, std::chrono::seconds(0), res) || res.result_int() != 200) co_return false;
  Sha256 sha;
  sha.Update(res.body());
  uint64_t received = res.body().size();
  const uint64_t payload = w.file_bytes - w.head_bytes;
  for (uint64_t offset = 0; offset < payload;) {
    const auto part = MakeRequest(http::verb::get, base + "/payload", none, "bytes=" + std::to_string(offset) + "-");
    if (!co_await Exchange(s, buffer, part, std::chrono::seconds(0), res) || res.result_int() != 206) co_return false;
    if (res.body().empty()) co_return false;
    sha.Update(res.body());
    offset += res.body().size();
    received += res.body().size();
  }
  if (received == w.file_bytes && sha.Finish().str() == w.bundle) {
    fleet.handed_at[index] = Clock::now();
    ++fleet.handed;
  } else {
    ++fleet.bad;
  }
  const auto ack = MakeRequest(http::verb::post, base + "/ack", "{\"received\":" + std::to_string(payload) + "}", none);
  if (!co_await Exchange(s, buffer, ack, std::chrono::seconds(0), res)) co_return false;
  const std::string failed = R"({"state":"failed","error":"fleet_bench: a simulated agent applies nothing"})";
  const auto result = MakeRequest(http::verb::post, base + "/result", failed, none);
  co_return co_await Exchange(s, buffer, result, std::chrono::seconds(0), res);
}

// One connection of agent `index`: dial, handshake, then long-poll (fetching what appears)
// until the connection fails or the bench stops.
asio::awaitable<void> Connection(asio::ssl::context& tls, const asio::ip::tcp::endpoint& hub, int index, Fleet& fleet) {
  Stream s(co_await asio::this_coro::executor, tls);
  link::SetServerName(s.native_handle(), kHubHost);
  beast::error_code ec;
  beast::get_lowest_layer(s).expires_after(kStall);
  co_await beast::get_lowest_layer(s).async_connect(hub, redirect_error(use_awaitable, ec));
  if (!ec) {
    beast::get_lowest_layer(s).expires_after(kStall);
    co_await s.async_handshake(asio::ssl::stream_base::client, redirect_error(use_awaitable, ec));
  }
  if (ec) {
    ++fleet.failures;
    co_return;
  }
  ++fleet.connects;
  ++fleet.held;
  if (fleet.connected_at[index] == Clock::time_point{}) {
    fleet.connected_at[index] = Clock::now();
    ++fleet.connected;
  }
  beast::flat_buffer buffer;
  const std::string poll_target = "/v1/work?wait=" + std::to_string(kPollWait);
  const std::string none;
  const auto poll = MakeRequest(http::verb::get, poll_target, none, none);
  bool fetched = false;
  while (!fleet.stopping) {
    http::response<http::string_body> res;
    if (!co_await Exchange(s, buffer, poll, std::chrono::seconds(kPollWait), res) || res.result_int() != 200) {
      if (!fleet.stopping) ++fleet.failures;
      break;
    }
    bool malformed = false;
    std::optional<WorkItem> work = FirstTransfer(res.body(), &malformed);
    if (malformed) ++fleet.failures;
    if (!work) continue;
    if (fetched) {  // a result the hub did not record yet: the long poll would return at once
      ++fleet.failures;
      break;
    }
    if (!co_await Fetch(s, buffer, *work, index, fleet)) {
      ++fleet.failures;
      break;
    }
    fetched = true;
  }
  --fleet.held;
}

// Agent `index`: a connection, and after it fails another one a second later, until stopped.
asio::awaitable<void> Agent(asio::ssl::context& tls, asio::ip::tcp::endpoint hub, int index, Fleet& fleet) {
  asio::steady_timer pause(co_await asio::this_coro::executor);
  while (!fleet.stopping) {
    co_await Connection(tls, hub, index, fleet);
    pause.expires_after(std::chrono::milliseconds(1000 + index % 1000));
    beast::error_code ec;
    co_await pause.async_wait(redirect_error(use_awaitable, ec));
  }
}

// One process's resident memory and CPU time, from /proc.
struct Usage {
  long rss_kib = 0;   // VmRSS
  long peak_kib = 0;  // VmHWM
  double cpu_s = 0;   // utime + stime
};

Usage UsageOf(const std::string& pid) {
  Usage u;
  std::ifstream status("/proc/" + pid + "/status");
  for (std::string line; std::getline(status, line);) {
    if (line.rfind("VmRSS:", 0) == 0) u.rss_kib = std::stol(line.substr(6));
    if (line.rfind("VmHWM:", 0) == 0) u.peak_kib = std::stol(line.substr(6));
  }
  std::ifstream stat("/proc/" + pid + "/stat");
  std::string all((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  size_t paren = all.rfind(')');
  if (paren == std::string::npos) return u;
  std::istringstream rest(all.substr(paren + 2));
  std::vector<std::string> f{std::istream_iterator<std::string>(rest), std::istream_iterator<std::string>()};
  if (f.size() > 12) u.cpu_s = (std::stod(f[11]) + std::stod(f[12])) / static_cast<double>(sysconf(_SC_CLK_TCK));
  return u;
}

// Raises this process's open-file limit to the hard one; false when it stays below `needed`.
bool RaiseOpenFiles(rlim_t needed) {
  rlimit l{};
  getrlimit(RLIMIT_NOFILE, &l);
  l.rlim_cur = l.rlim_max;
  setrlimit(RLIMIT_NOFILE, &l);
  getrlimit(RLIMIT_NOFILE, &l);
  return l.rlim_cur >= needed;
}

std::string SiteName(int i) {
  char name[32];
  std::snprintf(name, sizeof name, "site-%04d", i);
  return name;
}

// The nearest-rank percentile of sorted `v` (0 when empty).
double Percentile(const std::vector<double>& v, double p) {
  if (v.empty()) return 0;
  size_t rank = static_cast<size_t>(p * static_cast<double>(v.size()) + 0.999999);
  return v[std::clamp<size_t>(rank, 1, v.size()) - 1];
}

struct Setup {
  std::filesystem::path yaml, bundle;
  double issue_s = 0;
};

// The CA, the hub's certificate and one per site, the hub's config and the small bundle.
Setup Prepare(const std::filesystem::path& dir, int agents, int port) {
  Setup out;
  const std::filesystem::path pki = dir / "pki";
  link::InitCa(pki);
  link::IssueOptions hub_cert;
  hub_cert.hosts = {kHubHost};
  link::IssueCertificate(pki, "hub", hub_cert);
  auto start = Clock::now();
  const link::IssueOptions site_cert;
  for (int i = 0; i < agents; ++i) link::IssueCertificate(pki, SiteName(i), site_cert);
  out.issue_s = Seconds(Clock::now() - start);

  out.yaml = dir / "hub.yaml";
  std::ofstream hub(out.yaml);
  hub << "listen: " << kHubHost << ":" << port << "\nstate_dir: " << (dir / "hub-state").string() << "\ntls: {ca: "
      << (pki / "ca.pem").string() << ", cert: " << (pki / "hub.pem").string() << ", key: " << (pki / "hub.key").string()
      << "}\nsites:\n";
  for (int i = 0; i < agents; ++i) hub << "  - name: " << SiteName(i) << "\n";
  hub.close();

  std::string layer(kBundleLayerBytes, '\0');
  for (size_t i = 0; i < layer.size(); ++i) layer[i] = static_cast<char>((i * 2654435761u) >> 13);
  out.bundle = dir / "small.bundle";
  protocol::testing::WriteTestBundle(dir, out.bundle, layer, nullptr);
  return out;
}

// `outpost hub enqueue` of the bundle for every site, kEnqueueWorkers commands at a time: when
// each site's command returned (its transfer is in the hub's state), or the zero time point
// when it failed.
std::vector<Clock::time_point> EnqueueAll(const Setup& setup, int agents) {
  std::vector<Clock::time_point> queued(agents);
  std::atomic<int> next{0};
  auto work = [&] {
    for (int i = next++; i < agents; i = next++) {
      testing::RunResult r = testing::RunCommand(testing::OutpostBinary() + " hub enqueue --config " +
                                                 setup.yaml.string() + " --site " + SiteName(i) + " " +
                                                 setup.bundle.string());
      if (r.exit_code == 0) {
        queued[i] = Clock::now();
      } else {
        std::fprintf(stderr, "fleet_bench: outpost hub enqueue for %s failed: %s\n", SiteName(i).c_str(), r.err.c_str());
      }
    }
  };
  std::vector<std::thread> workers;
  for (int w = 0; w < kEnqueueWorkers; ++w) workers.emplace_back(work);
  for (std::thread& t : workers) t.join();
  return queued;
}

int Run(int agents, int idle_s) {
  if (!RaiseOpenFiles(static_cast<rlim_t>(agents) + 64)) {
    std::fprintf(stderr, "fleet_bench: the open-file limit is below %d agents + 64; raise ulimit -Hn\n", agents);
    return 2;
  }
  TempDir dir;
  const int port = testing::FreePort();
  Setup setup = Prepare(dir.path(), agents, port);
  std::fprintf(stderr, "fleet_bench: %d site certificates issued in %.1f s; bundle %ju bytes\n", agents, setup.issue_s,
               static_cast<uintmax_t>(std::filesystem::file_size(setup.bundle)));
  std::vector<asio::ssl::context> contexts;
  contexts.reserve(agents);
  const std::filesystem::path pki = dir.path() / "pki";
  for (int i = 0; i < agents; ++i) {
    contexts.push_back(link::MakeClientContext({pki / "ca.pem", pki / (SiteName(i) + ".pem"), pki / (SiteName(i) + ".key")}));
  }

  testing::Process hubd({testing::OutpostBinary(), "hub", "--config", setup.yaml.string()}, {}, dir.path() / "hub.log");
  const std::string hub_pid = std::to_string(hubd.pid());
  Fleet fleet(agents);
  asio::io_context io(1);
  const asio::ip::tcp::endpoint endpoint(asio::ip::make_address(kHubHost), static_cast<unsigned short>(port));
  const bool listening = testing::WaitUntil(
      [&] {
        return !hubd.Running() ||
               (std::filesystem::exists(hubd.log()) && ReadFileToString(hubd.log()).find("hub listening") != std::string::npos);
      },
      std::chrono::minutes(1));
  if (!listening || !hubd.Running()) {
    std::fprintf(stderr, "fleet_bench: the hub did not start:\n%s\n", ReadFileToString(hubd.log()).c_str());
    return 1;
  }
  const auto start = Clock::now();
  for (int i = 0; i < agents; ++i) asio::co_spawn(io, Agent(contexts[i], endpoint, i, fleet), asio::detached);
  std::thread runner([&] { io.run(); });

  testing::WaitUntil([&] { return fleet.held.load() == agents; }, std::chrono::minutes(3));
  const double connect_s = Seconds(Clock::now() - start);
  const int held_at_start = fleet.held;
  std::this_thread::sleep_for(std::chrono::seconds(5));  // the handshake burst settles
  const int connects0 = fleet.connects, failures0 = fleet.failures;
  const Usage idle0 = UsageOf(hub_pid), self0 = UsageOf("self");
  std::this_thread::sleep_for(std::chrono::seconds(idle_s));
  const Usage idle1 = UsageOf(hub_pid), self1 = UsageOf("self");
  const int held_idle = fleet.held, reconnects_idle = fleet.connects - connects0, failures_idle = fleet.failures - failures0;

  const auto enqueue_start = Clock::now();
  std::vector<Clock::time_point> queued = EnqueueAll(setup, agents);
  const double enqueue_s = Seconds(Clock::now() - enqueue_start);
  const int enqueue_failures =
      static_cast<int>(std::count(queued.begin(), queued.end(), Clock::time_point{}));
  testing::WaitUntil([&] { return fleet.handed.load() + fleet.bad.load() + enqueue_failures >= agents; },
                     std::chrono::minutes(10));
  const Usage after = UsageOf(hub_pid);
  const double cpu_handoff = after.cpu_s - idle1.cpu_s;

  fleet.stopping = true;
  const auto stop_start = Clock::now();
  hubd.Signal(SIGTERM);
  const bool hub_stopped = hubd.Wait(std::chrono::seconds(10)).has_value();
  const double stop_s = Seconds(Clock::now() - stop_start);
  io.stop();
  runner.join();

  std::vector<double> latency;
  Clock::time_point last = enqueue_start;
  for (int i = 0; i < agents; ++i) {
    if (fleet.handed_at[i] == Clock::time_point{}) continue;
    latency.push_back(Seconds(fleet.handed_at[i] - queued[i]));
    last = std::max(last, fleet.handed_at[i]);
  }
  std::sort(latency.begin(), latency.end());
  const double idle_cpu = 100 * (idle1.cpu_s - idle0.cpu_s) / idle_s;

  std::printf("| agents | connected in | held after idle | reconnects in idle | hub RSS idle | hub RSS peak | hub CPU idle (%d s) |\n",
              idle_s);
  std::printf("|---:|---:|---:|---:|---:|---:|---:|\n");
  std::printf("| %d | %d in %.1f s | %d | %d (%d failures) | %.1f MiB | %.1f MiB | %.2f%% of a core |\n\n", agents,
              held_at_start, connect_s, held_idle, reconnects_idle, failures_idle, idle1.rss_kib / 1024.0,
              after.peak_kib / 1024.0, idle_cpu);
  const Clock::time_point last_queued = *std::max_element(queued.begin(), queued.end());
  std::printf("| bundle | enqueue all (CLI) | handed off | hand-off total | after the last enqueue | p50 | p99 | max | "
              "hub CPU in hand-off | hub stop (SIGTERM) |\n");
  std::printf("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
  std::printf("| %ju B | %.1f s | %zu of %d (%d bad) | %.1f s | %.1f s | %.2f s | %.2f s | %.2f s | %.1f s | %s %.1f s |\n\n",
              static_cast<uintmax_t>(std::filesystem::file_size(setup.bundle)), enqueue_s, latency.size(), agents,
              fleet.bad.load(), Seconds(last - enqueue_start), Seconds(last - last_queued), Percentile(latency, 0.5),
              Percentile(latency, 0.99),
              latency.empty() ? 0.0 : latency.back(), cpu_handoff, hub_stopped ? "stopped in" : "NOT stopped after",
              stop_s);
  std::printf("bench process (%d simulated agents): RSS peak %.1f MiB, CPU %.2f%% of a core while idle\n", agents,
              self1.peak_kib / 1024.0, 100 * (self1.cpu_s - self0.cpu_s) / idle_s);
  const bool ok = latency.size() == static_cast<size_t>(agents) && hub_stopped && enqueue_failures == 0;
  if (!ok) {
    std::fprintf(stderr, "fleet_bench: %d enqueue failures, %d agent failures; the hub's log:\n", enqueue_failures,
                 fleet.failures.load());
    testing::Shell("tail -n 40 " + hubd.log().string() + " >&2");
  }
  return ok ? 0 : 1;
}

}  // namespace
}  // namespace outpost::bench

int main(int argc, char** argv) {
  const int agents = argc > 1 ? std::atoi(argv[1]) : 1000;
  const int idle_s = argc > 2 ? std::atoi(argv[2]) : 60;
  if (agents < 1 || idle_s < 1) {
    std::fprintf(stderr, "usage: fleet_bench [AGENTS [IDLE_SECONDS]]\n");
    return 2;
  }
  return outpost::bench::Run(agents, idle_s);
}
