// GET /metrics of a running hub and agent after a transfer, as Prometheus scrapes them: the
// exposition is well-formed line by line and counts the bytes, the applied transfer and its
// time; the counters come from the databases, so a restarted hub reports the same. And while a
// transfer crosses a slow link, /metrics and both `status --json` show it under way.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <nlohmann/json.hpp>

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


// `outpost hub status --json` / `outpost agent status --json` of the rig's oslo, parsed (null
// when the command fails).
nlohmann::json StatusJson(LinkRig& rig, const std::string& daemon) {
  const std::string config = daemon == "hub" ? "hub.yaml" : "agent-oslo.yaml";
  RunResult r = RunCommand(OutpostBinary() + " " + daemon + " status --json --config " + rig.Path(config).string());
  return r.exit_code == 0 ? nlohmann::json::parse(r.out) : nlohmann::json();
}

TEST(MetricsScrape, MidTransferTheMetricsAndBothStatusesShowTheTransferUnderWay) {
  LinkRig rig(WithMetrics());
  rig.StartAll({"--rate-down", "32000"});  // 256 kbit/s: the ~1 MiB bundle takes about 35 s
  const double total = static_cast<double>(rig.bundle_bytes());
  ASSERT_TRUE(WaitUntil([&] { return rig.Stats().bytes_down > 100'000; }, seconds(60))) << rig.AgentLog();

  std::string hub;
  ASSERT_TRUE(WaitUntil([&] {
    hub = Scrape(rig.Path("hub-state") / "http_port");
    return Value(hub, "outpost_hub_link_bytes_sent_total{site=\"oslo\"} ") > 0;
  }, seconds(10))) << hub;
  // Bytes the hub wrote into its socket: the kernel's and the simulator's buffers take a 1 MiB
  // bundle at once, so this is not a measure of progress (bytes_acked below is).
  EXPECT_EQ(Value(hub, "outpost_hub_transfers{site=\"oslo\",state=\"sending\"} "), 1) << hub;
  EXPECT_EQ(Value(hub, "outpost_hub_transfers{site=\"oslo\",state=\"applied\"} "), 0) << hub;
  EXPECT_GE(Value(hub, "outpost_hub_connected_agents "), 1) << hub;

  std::string agent;
  ASSERT_TRUE(WaitUntil([&] {
    agent = Scrape(rig.Path("agent-state-oslo") / "metrics_port");
    return Value(agent, "outpost_agent_bytes_received_total ") > 0;
  }, seconds(10))) << agent;
  EXPECT_EQ(Value(agent, "outpost_agent_transfers_in_progress "), 1) << agent;
  EXPECT_LT(Value(agent, "outpost_agent_bytes_received_total "), total) << agent;

  nlohmann::json oslo;
  ASSERT_TRUE(WaitUntil([&] {
    oslo = StatusJson(rig, "hub")["sites"][0];
    return !oslo.is_null() && !oslo["transfers"].empty() && oslo["transfers"][0]["bytes_sent"].get<uint64_t>() > 0;
  }, seconds(10))) << oslo.dump(1);
  // The hub learns how far the agent is only from its next request or its result, so what it
  // shows of a transfer under way is its state, the bytes written and the bytes remaining.
  nlohmann::json sending = oslo["transfers"][0];
  EXPECT_EQ(sending["state"], "sending") << oslo.dump(1);
  EXPECT_GT(sending["bytes_sent"].get<uint64_t>(), 0u) << oslo.dump(1);
  EXPECT_LT(sending["bytes_acked"], sending["payload_bytes"]) << oslo.dump(1);
  EXPECT_GT(oslo["remaining"].get<uint64_t>(), 0u) << oslo.dump(1);

  nlohmann::json fetching;
  ASSERT_TRUE(WaitUntil([&] {
    nlohmann::json status = StatusJson(rig, "agent");
    if (status.is_null() || status["transfers"].empty()) return false;
    fetching = status["transfers"][0];
    return fetching["received"].get<uint64_t>() > 0;
  }, seconds(10))) << fetching.dump(1);
  EXPECT_EQ(fetching["state"], "fetching") << fetching.dump(1);
  EXPECT_LT(fetching["received"], fetching["payload_bytes"]) << fetching.dump(1);

  // Read under way, not at the end: the site does not have the image yet.
  EXPECT_FALSE(rig.Applied());
  ASSERT_TRUE(rig.WaitApplied(seconds(120))) << rig.AgentLog();
}

}  // namespace
}  // namespace outpost::testing
