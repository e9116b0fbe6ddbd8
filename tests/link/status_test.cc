// `outpost hub status` and `outpost agent status` against running daemons, as operators run
// them: after a transfer they name the site's last contact, the bytes and the applied manifest;
// --json is for scripts.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tests/link/link_rig.h"
#include "tests/support/command.h"

namespace outpost::testing {
namespace {

using std::chrono::seconds;
using ::testing::HasSubstr;

RigOptions SmallBundle() {
  RigOptions o;
  o.payload_bytes = 1 << 20;
  return o;
}

TEST(HubStatusCommand, ShowsTheAppliedTransferTheContactAndTheBytesOfARunningHub) {
  LinkRig rig(SmallBundle());
  rig.StartAll();
  ASSERT_TRUE(rig.WaitApplied(seconds(120))) << rig.AgentLog();
  const std::string status = OutpostBinary() + " hub status --config " + rig.Path("hub.yaml").string();
  nlohmann::json oslo;
  ASSERT_TRUE(WaitUntil([&] {
    RunResult r = RunCommand(status + " --json --site oslo");
    if (r.exit_code != 0) return false;
    oslo = nlohmann::json::parse(r.out)["sites"][0];
    return oslo["transfers"][0]["state"] == "applied";
  }, seconds(20))) << rig.HubLog();
  EXPECT_EQ(oslo["transfers"][0]["manifest"], rig.expected().str());
  EXPECT_NE(oslo["last_contact"], "");
  EXPECT_GE(oslo["bytes_sent"].get<uint64_t>(), rig.bundle_bytes());
  EXPECT_EQ(oslo["remaining"], 0);
  RunResult text = RunCommand(status);
  EXPECT_EQ(text.exit_code, 0) << text.err;
  EXPECT_THAT(text.out, HasSubstr("site oslo: last contact 20"));
  EXPECT_THAT(text.out, HasSubstr("site bergen: last contact never"));
  EXPECT_THAT(text.out, HasSubstr("applied"));
  RunResult unknown = RunCommand(status + " --site tromso");
  EXPECT_NE(unknown.exit_code, 0);
  EXPECT_THAT(unknown.err, HasSubstr("no site `tromso` (sites: oslo, bergen)"));
}

TEST(AgentStatusCommand, ShowsTheAppliedTransferItsTagAndThatTheHubHasTheResult) {
  LinkRig rig(SmallBundle());
  rig.StartAll();
  ASSERT_TRUE(rig.WaitApplied(seconds(120))) << rig.AgentLog();
  const std::string status = OutpostBinary() + " agent status --config " + rig.Path("agent-oslo.yaml").string();
  nlohmann::json transfer;
  ASSERT_TRUE(WaitUntil([&] {
    RunResult r = RunCommand(status + " --json");
    if (r.exit_code != 0) return false;
    transfer = nlohmann::json::parse(r.out)["transfers"][0];
    return transfer["reported"] == true;
  }, seconds(20))) << rig.AgentLog();
  EXPECT_EQ(transfer["state"], "applied");
  EXPECT_EQ(transfer["manifest"], rig.expected().str());
  EXPECT_EQ(transfer["received"], transfer["payload_bytes"]);
  RunResult text = RunCommand(status);
  EXPECT_EQ(text.exit_code, 0) << text.err;
  EXPECT_THAT(text.out, HasSubstr("site oslo: hub 127.0.0.1:"));
  EXPECT_THAT(text.out, HasSubstr("applied"));
  EXPECT_THAT(text.out, HasSubstr("reported"));
}

}  // namespace
}  // namespace outpost::testing
