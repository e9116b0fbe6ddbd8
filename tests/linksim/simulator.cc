#include "tests/linksim/simulator.h"

#include <cstdio>
#include <fstream>
#include <memory>
#include <sstream>
#include <vector>

#include "tests/linksim/connection.h"

namespace outpost::linksim {
namespace {

constexpr auto kControlPoll = std::chrono::milliseconds(100);
constexpr auto kStatsInterval = std::chrono::milliseconds(200);

Clock::duration Seconds(double s) {
  return std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(s));
}

// The whole file, or "" when it cannot be read (not there yet).
std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return in ? out.str() : "";
}

}  // namespace

Simulator::Simulator(asio::io_context& io, Options options)
    : io_(io),
      link_(std::move(options), Clock::now()),
      acceptor_(io, tcp::endpoint(asio::ip::make_address_v4("127.0.0.1"), link_.options.listen_port)),
      control_timer_(io),
      stats_timer_(io),
      signals_(io, SIGINT, SIGTERM) {
  for (size_t i = 0; i < link_.options.blackhole_at.size(); ++i) {
    link_.blackholes.Add(link_.start + Seconds(link_.options.blackhole_at[i]), Seconds(link_.options.blackhole_for[i]));
  }
}

bool Simulator::Start() {
  if (!link_.options.control_file.empty()) control_content_ = ReadAll(link_.options.control_file);
  if (!link_.options.port_file.empty() && !WriteAtomically(link_.options.port_file, std::to_string(port()) + "\n")) {
    std::fprintf(stderr, "outpost-linksim: cannot write the port file %s\n", link_.options.port_file.c_str());
    return false;
  }
  signals_.async_wait([this](boost::system::error_code ec, int) {
    if (!ec) OnSignal();
  });
  Accept();
  if (!link_.options.control_file.empty()) PollControl();
  if (!link_.options.stats_file.empty()) WriteStatsEvery200ms();
  return true;
}

void Simulator::Accept() {
  acceptor_.async_accept([this](boost::system::error_code ec, tcp::socket socket) {
    if (!ec) {
      ++link_.stats.connections;
      std::make_shared<Connection>(link_, std::move(socket))->Start();
    } else if (ec == asio::error::operation_aborted) {
      return;
    }
    Accept();
  });
}

void Simulator::PollControl() {
  control_timer_.expires_after(kControlPoll);
  control_timer_.async_wait([this](boost::system::error_code ec) {
    if (ec) return;
    std::string content = ReadAll(link_.options.control_file);
    if (content != control_content_) {
      control_content_ = content;
      RunCommand(content.substr(0, content.find('\n')));
    }
    PollControl();
  });
}

void Simulator::RunCommand(const std::string& line) {
  std::istringstream words(line);
  std::string verb;
  words >> verb;
  double seconds = 0;
  uint64_t rate = 0;
  if (verb == "blackhole" && words >> seconds && seconds > 0) {
    link_.blackholes.Add(Clock::now(), Seconds(seconds));
  } else if (verb == "cut") {
    ForEachOpen(&Connection::Cut);
  } else if (verb == "rate-down" && words >> rate) {
    link_.down.SetRate(rate, Clock::now());
  } else if (!verb.empty()) {
    std::fprintf(stderr, "outpost-linksim: ignoring control command '%s' (blackhole SECONDS, cut, rate-down N)\n",
                 line.c_str());
    return;
  }
  if (!verb.empty()) std::fprintf(stderr, "outpost-linksim: control: %s\n", line.c_str());
}

Simulator::~Simulator() { ForEachOpen(&Connection::Close); }

void Simulator::ForEachOpen(void (Connection::*act)()) {
  std::vector<std::shared_ptr<Connection>> open;
  for (Connection* c : link_.open) open.push_back(c->shared_from_this());
  for (const auto& c : open) (*c.*act)();
}

void Simulator::WriteStatsEvery200ms() {
  WriteAtomically(link_.options.stats_file, ToJson(Snapshot()) + "\n");
  stats_timer_.expires_after(kStatsInterval);
  stats_timer_.async_wait([this](boost::system::error_code ec) {
    if (!ec) WriteStatsEvery200ms();
  });
}

Stats Simulator::Snapshot() const {
  Stats s = link_.stats;
  Clock::time_point now = Clock::now();
  s.blackholed_ms = static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(link_.blackholes.Total(link_.start, now)).count());
  s.corrupted = link_.faults.corrupted();
  return s;
}

void Simulator::OnSignal() {
  std::string line = ToJson(Snapshot());
  if (!link_.options.stats_file.empty()) WriteAtomically(link_.options.stats_file, line + "\n");
  std::fprintf(stderr, "%s\n", line.c_str());
  io_.stop();
}

}  // namespace outpost::linksim
