// Sync windows with an injected clock: the hub's clock starts 15 s before a one-minute window
// opens (Monday 08:59:45 in Oslo). No payload crosses before or after it; inside it the queued
// bundle fills at least 95% of the window's capacity at its rate.
#include <gtest/gtest.h>

#include <sqlite3.h>

#include <thread>

#include "tests/link/link_rig.h"

namespace outpost::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using std::chrono::steady_clock;

constexpr uint64_t kWindowRate = 32'000;  // 256kbit
constexpr int kWindowSeconds = 60;
// Polls, 503 answers and a TLS handshake: far less than half a second of the window's rate.
constexpr uint64_t kControlBytes = 16 * 1024;

// Payload bytes the hub's state says it sent, over all transfers.
uint64_t HubBytesSent(const LinkRig& rig) {
  std::string dump = rig.HubStateDump();  // make sure the database is readable first
  sqlite3* h = nullptr;
  sqlite3_open_v2((rig.Path("hub-state") / "hub.db").c_str(), &h, SQLITE_OPEN_READONLY, nullptr);
  sqlite3_stmt* st = nullptr;
  uint64_t sent = 0;
  if (sqlite3_prepare_v2(h, "SELECT COALESCE(SUM(bytes_sent), 0) FROM transfers", -1, &st, nullptr) == SQLITE_OK &&
      sqlite3_step(st) == SQLITE_ROW) {
    sent = static_cast<uint64_t>(sqlite3_column_int64(st, 0));
  }
  sqlite3_finalize(st);
  sqlite3_close(h);
  return sent;
}

void SleepUntil(steady_clock::time_point t) { std::this_thread::sleep_until(t); }

TEST(LinkWindows, NoPayloadOutsideAWindowAndNinetyFivePercentOfItsCapacityInside) {
  RigOptions o;
  o.sites_yaml =
      "  - name: oslo\n"
      "    timezone: Europe/Oslo\n"
      "    windows:\n"
      "      - {days: mon-fri, start: \"09:00\", end: \"09:01\", rate: 256kbit}\n";
  o.hub_env = {"OUTPOST_TEST_CLOCK=2026-12-07T07:59:45Z"};  // Monday 08:59:45 in Oslo (UTC+1)
  LinkRig rig(o);
  auto t0 = steady_clock::now();
  rig.StartAll();

  SleepUntil(t0 + seconds(13));
  uint64_t before = rig.Stats().bytes_down;
  EXPECT_EQ(HubBytesSent(rig), 0u) << rig.HubLog();
  EXPECT_LT(before, kControlBytes) << "payload crossed before the window opened";

  SleepUntil(t0 + seconds(15 + kWindowSeconds + 3));
  uint64_t inside = rig.Stats().bytes_down - before;
  uint64_t sent = HubBytesSent(rig);
  double used = static_cast<double>(inside) / (kWindowRate * kWindowSeconds);
  std::printf("link: window used %.1f%% of its capacity (%llu B)\n", used * 100,
              static_cast<unsigned long long>(inside));
  EXPECT_GE(used, 0.95) << rig.HubLog() << rig.AgentLog();
  EXPECT_LE(used, 1.05) << "the window's rate was exceeded";

  SleepUntil(t0 + seconds(15 + kWindowSeconds + 20));
  EXPECT_EQ(HubBytesSent(rig), sent) << "payload crossed after the window closed";
  EXPECT_LT(rig.Stats().bytes_down - before - inside, kControlBytes);
  EXPECT_FALSE(rig.Applied());
}

}  // namespace
}  // namespace outpost::testing
