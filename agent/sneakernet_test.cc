#include "agent/sneakernet.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "agent/agent_state.h"
#include "agent/test_clock.h"
#include "common/file.h"
#include "protocol/part_file.h"
#include "protocol/test_bundle.h"
#include "tests/support/matchers.h"

namespace outpost::agent {
namespace {

using outpost::testing::ThrowsKind;
using ::testing::HasSubstr;
using Kind = ImportOutcome::Kind;

// A signed test bundle (its manifest is not a real image's, so its apply fails: the state rows
// are what these tests look at) cut into one part for transfer 7 of `site`.
class ImportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    key_.SavePrivate(dir_.path() / "sign.key");
    key_.SavePublic(dir_.path() / "sign.key.pub");
    config_.site = "oslo";
    config_.state_dir = dir_.path() / "state";
    config_.target = storage::Reference::Parse("oci:" + (dir_.path() / "site").string());
    config_.verify_key = dir_.path() / "sign.key.pub";
    std::filesystem::path bundle = dir_.path() / "b.bundle";
    protocol::testing::WriteTestBundle(dir_.path(), bundle, "layer bytes", &key_);
    RandomAccessFile file(bundle);
    protocol::BundleHead head = protocol::ReadHead(file, "b");
    carriage_ = {HashAll(file), file.size(), head.head_bytes(), 7, "oslo", "app:2.0"};
  }

  std::vector<std::filesystem::path> Parts(const std::string& site) {
    protocol::Carriage c = carriage_;
    c.site = site;
    return protocol::WriteParts(dir_.path() / "b.bundle", c, 1 << 20, dir_.path() / ("media-" + site), &key_);
  }

  TempDir dir_;
  protocol::SigningKey key_ = protocol::SigningKey::Generate();
  AgentConfig config_;
  protocol::Carriage carriage_;
  testing::FixedClock clock_;
};

TEST_F(ImportTest, AnImportRecordsTheHubsTransferAsTheLinkWouldAndASecondChangesNothing) {
  std::vector<ImportOutcome> first = ImportParts(config_, Parts("oslo"), clock_);
  ASSERT_EQ(first.size(), 1u);
  EXPECT_EQ(first[0].transfer, 7);
  AgentState state(config_.state_dir / "agent.db", clock_);
  TransferRow row = *state.Find(7);
  EXPECT_EQ(row.item.bundle, carriage_.bundle.str());
  EXPECT_EQ(row.item.as, "app:2.0");
  EXPECT_TRUE(row.state == TransferState::kApplied || row.state == TransferState::kFailed);
  EXPECT_FALSE(row.reported);  // the link (or the report) tells the hub
  std::vector<ImportOutcome> second = ImportParts(config_, Parts("oslo"), clock_);
  ASSERT_EQ(second.size(), 1u);
  EXPECT_EQ(second[0].kind, Kind::kAlreadyDone);
  EXPECT_THAT(OutcomeLine(second[0]), HasSubstr("nothing changed"));
  EXPECT_EQ(state.Find(7)->updated_at, row.updated_at);
}

TEST_F(ImportTest, ATransferTheLinkReceivedWholeIsLeftToTheDaemon) {
  {
    std::filesystem::create_directories(config_.state_dir);
    AgentState state(config_.state_dir / "agent.db", clock_);
    state.Begin({7, carriage_.bundle.str(), carriage_.head_bytes, carriage_.bundle_bytes, "app:2.0"});
    state.SetReceived(7);
  }
  std::vector<ImportOutcome> out = ImportParts(config_, Parts("oslo"), clock_);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].kind, Kind::kLeftToLink);
}

TEST_F(ImportTest, ABundleForAnotherSiteIsRefusedAndRecordsNothing) {
  EXPECT_THAT([&] { ImportParts(config_, Parts("bergen"), clock_); }, ThrowsKind(Error::Kind::kInvalidArgument, HasSubstr("bergen")));
  AgentState state(config_.state_dir / "agent.db", clock_);
  EXPECT_FALSE(state.Find(7).has_value());
}

TEST_F(ImportTest, TheLinksFetchCompletingAfterAnImportLeavesTheTransferApplied) {
  std::filesystem::create_directories(config_.state_dir);
  AgentState state(config_.state_dir / "agent.db", clock_);
  state.Begin({7, carriage_.bundle.str(), carriage_.head_bytes, carriage_.bundle_bytes, "app:2.0"});
  state.SetApplied(7, "sha256:" + std::string(64, 'b'), "app:2.0");  // what an import does
  state.SetReceived(7);                                                // the daemon's fetch ends
  EXPECT_EQ(state.Find(7)->state, TransferState::kApplied);
}

}  // namespace
}  // namespace outpost::agent
