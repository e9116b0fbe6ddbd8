// GET /metrics of a running hub and agent after a transfer, as Prometheus scrapes them: the
// exposition is well-formed line by line and counts the bytes, the applied transfer and its
// time; the counters come from the databases, so a restarted hub reports the same.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>

#include "common/file.h"
#include "link/metrics_text.h"
#include "tests/link/link_rig.h"
#include "tests/support/command.h"

namespace outpost::testing {
namespace {

using ::testing::IsEmpty;
using std::chrono::seconds;

// The value of the sample line starting with `prefix` ("name{labels} "), or -1.
double Value(const std::string& text, const std::string& prefix) {
  size_t at = text.find("\n" + prefix);
  if (at == std::string::npos) return -1;
  return std::stod(text.substr(at + 1 + prefix.size()));
}

// curl of http://127.0.0.1:PORT/metrics, PORT read from `port_file`.
std::string Scrape(const std::filesystem::path& port_file) {
  std::string port = ReadFileToString(port_file);
  RunResult r = RunCommand("curl -s -f http://127.0.0.1:" + port.substr(0, port.find('\n')) + "/metrics");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return r.out;
}

RigOptions WithMetrics() {
  RigOptions o;
  o.payload_bytes = 1 << 20;
  o.hub_extra = "http_listen: 127.0.0.1:0\n";
  o.agent_extra = "metrics_listen: 127.0.0.1:0\n";
  return o;
}

TEST(MetricsScrape, TheHubAndTheAgentReportTheTransferAndTheHubsCountersSurviveARestart) {
  LinkRig rig(WithMetrics());
  rig.StartAll();
  ASSERT_TRUE(rig.WaitApplied(seconds(120))) << rig.AgentLog();
  const auto hub_port = rig.Path("hub-state") / "http_port";
  std::string hub;
  ASSERT_TRUE(WaitUntil([&] {
    hub = Scrape(hub_port);
    return Value(hub, "outpost_hub_transfers{site=\"oslo\",state=\"applied\"} ") == 1;
  }, seconds(20))) << hub << rig.HubLog();
  EXPECT_THAT(link::ExpositionProblems(hub), IsEmpty()) << hub;
  EXPECT_GE(Value(hub, "outpost_hub_link_bytes_sent_total{site=\"oslo\"} "), static_cast<double>(rig.bundle_bytes()));
  EXPECT_GT(Value(hub, "outpost_hub_last_sync_timestamp_seconds{site=\"oslo\"} "), 1.7e9);
  EXPECT_GE(Value(hub, "outpost_hub_bytes_saved_total{site=\"oslo\"} "), 0);
  EXPECT_EQ(Value(hub, "outpost_hub_transfers{site=\"oslo\",state=\"queued\"} "), 0);
  EXPECT_GE(Value(hub, "outpost_hub_connected_agents "), 1) << hub;

  std::string agent = Scrape(rig.Path("agent-state-oslo") / "metrics_port");
  EXPECT_THAT(link::ExpositionProblems(agent), IsEmpty()) << agent;
  EXPECT_EQ(Value(agent, "outpost_agent_transfers_total{result=\"applied\"} "), 1) << agent;
  EXPECT_GE(Value(agent, "outpost_agent_bytes_received_total "), static_cast<double>(rig.bundle_bytes()));
  EXPECT_GT(Value(agent, "outpost_agent_last_apply_timestamp_seconds "), 1.7e9);

  const double sent = Value(hub, "outpost_hub_link_bytes_sent_total{site=\"oslo\"} ");
  rig.hub().Signal(SIGTERM);
  ASSERT_TRUE(rig.hub().Wait(std::chrono::seconds(10))) << rig.HubLog();
  std::filesystem::remove(hub_port);
  rig.StartHub();
  ASSERT_TRUE(WaitUntil([&] { return std::filesystem::exists(hub_port); }, seconds(20))) << rig.HubLog();
  std::string again = Scrape(hub_port);
  EXPECT_EQ(Value(again, "outpost_hub_link_bytes_sent_total{site=\"oslo\"} "), sent) << again;
  EXPECT_EQ(Value(again, "outpost_hub_transfers{site=\"oslo\",state=\"applied\"} "), 1);
}

}  // namespace
}  // namespace outpost::testing
