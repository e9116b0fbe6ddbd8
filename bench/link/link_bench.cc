// The link's goodput under a per-site cap with a long round trip, and whether two transfers to
// one site together stay within that cap. Real hub, agents and link simulator (tests/link's rig).
//
//   build/bench/link/link_bench        (about 4 minutes; prints a table)
//
// Goodput is measured between the moments the simulator has carried 10% and 90% of the bundle
// (the steady state, without the handshakes' round trips), and also over the whole transfer.
#include <signal.h>

#include <chrono>
#include <cstdio>
#include <deque>
#include <string>
#include <thread>
#include <vector>

#include "tests/link/link_rig.h"

namespace outpost::testing {
namespace {

using Clock = std::chrono::steady_clock;

struct Sample {
  double t;        // seconds since the agent started
  uint64_t bytes;  // down bytes the simulator carried
};

// Samples the simulator's down counter every 100 ms until it reaches `until` bytes.
std::vector<Sample> Follow(LinkRig& rig, uint64_t until, Clock::time_point start) {
  std::vector<Sample> out;
  for (;;) {
    uint64_t b = rig.Stats().bytes_down;
    out.push_back({std::chrono::duration<double>(Clock::now() - start).count(), b});
    if (b >= until) return out;
    if (out.back().t > 900) throw std::runtime_error("link_bench: the transfer did not finish in 15 minutes");
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

double TimeAt(const std::vector<Sample>& s, uint64_t bytes) {
  for (const Sample& x : s) {
    if (x.bytes >= bytes) return x.t;
  }
  return s.back().t;
}

RigOptions CappedSite(const std::string& rate, uint64_t payload) {
  RigOptions o;
  o.payload_bytes = payload;
  o.sites_yaml = "  - name: oslo\n    rate: " + rate + "\n  - name: bergen\n";
  return o;
}

void Goodput(const std::string& rate, uint64_t cap, uint64_t payload) {
  LinkRig rig(CappedSite(rate, payload));
  rig.StartHub();
  rig.StartLinksim({"--latency-ms", "300"});
  rig.Enqueue();
  auto start = Clock::now();
  rig.StartAgent();
  uint64_t total = rig.bundle_bytes();
  std::vector<Sample> s = Follow(rig, total, start);
  double steady = 0.8 * total / (TimeAt(s, total * 9 / 10) - TimeAt(s, total / 10));
  double whole = total / s.back().t;
  std::printf("| one transfer | %-8s | 600 ms | %9llu | %6.1f s | %8.0f B/s (%5.1f%%) | %8.0f B/s (%5.1f%%) |\n",
              rate.c_str(), static_cast<unsigned long long>(total), s.back().t, steady, 100 * steady / cap, whole,
              100 * whole / cap);
}

// Two agents of one site fetch at once; the largest and smallest rate over any 60 s span.
void TwoTransfers(const std::string& rate, uint64_t cap, uint64_t payload) {
  LinkRig rig(CappedSite(rate, payload));
  rig.StartHub();
  rig.StartLinksim({"--latency-ms", "300"});
  rig.Enqueue();
  auto start = Clock::now();
  rig.StartAgent("oslo");
  rig.StartAgent("oslo", "-second");
  std::vector<Sample> s = Follow(rig, 2 * rig.bundle_bytes(), start);
  double most = 0, least = 1e18;
  for (size_t i = 0; i < s.size(); ++i) {
    for (size_t j = i; j < s.size(); ++j) {
      if (s[j].t - s[i].t < 60) continue;
      double r = (s[j].bytes - s[i].bytes) / (s[j].t - s[i].t);
      most = std::max(most, r);
      least = std::min(least, r);
      break;
    }
  }
  std::printf("| two at once  | %-8s | 600 ms | %9llu | %6.1f s | 60 s spans: max %5.1f%% min %5.1f%% of the cap |\n",
              rate.c_str(), static_cast<unsigned long long>(2 * rig.bundle_bytes()), s.back().t, 100 * most / cap,
              100 * least / cap);
}

}  // namespace
}  // namespace outpost::testing

int main() {
  using outpost::testing::Goodput;
  using outpost::testing::TwoTransfers;
  std::printf("| case         | cap      | RTT    | bytes     | time     | goodput 10-90%%            | goodput whole             |\n");
  std::printf("|---|---|---|---:|---:|---:|---:|\n");
  Goodput("64kbit", 8000, 512 << 10);
  Goodput("256kbit", 32000, 2 << 20);
  TwoTransfers("256kbit", 32000, 1 << 20);
  return 0;
}
