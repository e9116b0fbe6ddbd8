#include "hub/hub_state.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/file.h"
#include "hub/hub.h"
#include "hub/test_support.h"
#include "protocol/test_bundle.h"
#include "tests/support/matchers.h"

namespace outpost::hub {
namespace {

using testing::Site;

using ::testing::HasSubstr;
using outpost::testing::ThrowsKind;

class HubStateTest : public ::testing::Test {
 protected:
  NewTransfer Row(const std::string& site, int64_t priority) {
    return {site, "sha256:" + std::string(64, 'a'), dir_.path() / "x.bundle", 100, 1100, priority, std::nullopt};
  }
  // A transfer the watcher planned: image `manifest` for the site, published as `ref`.
  NewTransfer Planned(const std::string& site, const std::string& ref, const std::string& manifest) {
    NewTransfer t = Row(site, 0);
    t.as_ref = ref;
    t.planned_manifest = manifest;
    return t;
  }
  std::vector<int64_t> Ids(HubState& state, const std::string& site) {
    std::vector<int64_t> ids;
    for (const Transfer& t : state.OpenTransfers(site)) ids.push_back(t.id);
    return ids;
  }

  TempDir dir_;
  testing::FixedClock clock_{link::ParseUtcTime("2026-12-07T08:59:50Z")};
};

TEST_F(HubStateTest, ANewDatabaseIsMigratedToVersionFour) {
  HubState state(dir_.path() / "state", clock_);
  EXPECT_EQ(state.database().schema_version(), 4);
  EXPECT_TRUE(std::filesystem::exists(dir_.path() / "state" / "hub.db"));
}

TEST_F(HubStateTest, OpenTransfersComeByPriorityThenQueueOrder) {
  HubState state(dir_.path(), clock_);
  int64_t a = state.Add(Row("oslo", 0));
  int64_t b = state.Add(Row("oslo", 5));
  int64_t c = state.Add(Row("oslo", 0));
  state.Add(Row("bergen", 9));
  EXPECT_EQ(Ids(state, "oslo"), (std::vector<int64_t>{b, a, c}));
}

TEST_F(HubStateTest, AnAckNeverDecreases) {
  HubState state(dir_.path(), clock_);
  int64_t id = state.Add(Row("oslo", 0));
  state.Ack(id, 500);
  state.Ack(id, 200);
  EXPECT_EQ(state.Find(id)->bytes_acked, 500u);
}

TEST_F(HubStateTest, AResultIsRecordedOnceAndTheTransferLeavesTheWorkList) {
  HubState state(dir_.path(), clock_);
  int64_t id = state.Add(Row("oslo", 0));
  EXPECT_TRUE(state.BeginSending(id));
  EXPECT_FALSE(state.BeginSending(id));
  EXPECT_EQ(state.Find(id)->state, TransferState::kSending);
  EXPECT_TRUE(state.Finish(id, {true, "sha256:" + std::string(64, 'b'), ""}));
  EXPECT_FALSE(state.Finish(id, {false, "", "too late"}));
  Transfer t = *state.Find(id);
  EXPECT_EQ(t.state, TransferState::kApplied);
  EXPECT_EQ(t.manifest, "sha256:" + std::string(64, 'b'));
  EXPECT_EQ(t.last_error, "");
  EXPECT_EQ(t.attempts, 2u);
  EXPECT_EQ(t.finished_at, "2026-12-07T08:59:50Z");
  EXPECT_TRUE(state.OpenTransfers("oslo").empty());
}

TEST_F(HubStateTest, AFailureKeepsTheSitesError) {
  HubState state(dir_.path(), clock_);
  int64_t id = state.Add(Row("oslo", 0));
  EXPECT_TRUE(state.Finish(id, {false, "", "apply: base not found"}));
  EXPECT_EQ(state.Find(id)->state, TransferState::kFailed);
  EXPECT_EQ(state.Find(id)->last_error, "apply: base not found");
}

TEST_F(HubStateTest, SentBytesCountForTheTransferTheSiteAndItsUtcDay) {
  HubState state(dir_.path(), clock_);
  int64_t id = state.Add(Row("oslo", 0));
  state.AddSent(id, "oslo", 1000);
  state.AddSent(id, "oslo", 24);
  clock_.Set(link::ParseUtcTime("2026-12-08T00:00:01Z"));
  state.AddSent(id, "oslo", 6);
  EXPECT_EQ(state.Find(id)->bytes_sent, 1030u);
  auto lock = state.database().Lock();
  link::Statement s = state.database().Prepare("SELECT day, bytes FROM site_bytes WHERE site = 'oslo' ORDER BY day");
  ASSERT_TRUE(s.Step());
  EXPECT_EQ(s.Text(0), "2026-12-07");
  EXPECT_EQ(s.Int(1), 1024);
  ASSERT_TRUE(s.Step());
  EXPECT_EQ(s.Int(1), 6);
  link::Statement site = state.database().Prepare("SELECT bytes_sent FROM sites WHERE name = 'oslo'");
  ASSERT_TRUE(site.Step());
  EXPECT_EQ(site.Int(0), 1030);
}

TEST_F(HubStateTest, ARestartKeepsEveryTransferAndItsProgress) {
  int64_t id = 0;
  {
    HubState state(dir_.path(), clock_);
    state.AddSites({"oslo", "bergen"});
    id = state.Add(Row("oslo", 3));
    state.BeginSending(id);
    state.AddSent(id, "oslo", 700);
    state.Ack(id, 600);
    state.Touch("oslo");
  }
  HubState state(dir_.path(), clock_);
  Transfer t = *state.Find(id);
  EXPECT_EQ(t.state, TransferState::kSending);
  EXPECT_EQ(t.priority, 3);
  EXPECT_EQ(t.bytes_sent, 700u);
  EXPECT_EQ(t.bytes_acked, 600u);
  EXPECT_EQ(t.head_bytes, 100u);
  EXPECT_EQ(t.payload_bytes(), 1000u);
  EXPECT_EQ(t.queued_at, "2026-12-07T08:59:50Z");
  EXPECT_EQ(Ids(state, "oslo"), std::vector<int64_t>{id});
}

class EnqueueTest : public ::testing::Test {
 protected:
  void SetUp() override {
    config_.state_dir = dir_.path() / "state";
    config_.file = "hub.yaml";
    config_.sites = {Site("oslo"), Site("bergen")};
    protocol::testing::WriteTestBundle(dir_.path(), bundle_, std::string(3 << 20, 'x'), nullptr);
  }

  TempDir dir_;
  std::filesystem::path bundle_ = dir_.path() / "update.bundle";
  HubConfig config_;
  testing::FixedClock clock_{link::ParseUtcTime("2026-12-07T08:59:50Z")};
};

TEST_F(EnqueueTest, StoresTheSameBundleOnceAndQueuesItPerRequest) {
  int64_t a = EnqueueBundle(config_, {"oslo", bundle_, 0, "test:2.0.0"}, clock_);
  int64_t b = EnqueueBundle(config_, {"bergen", bundle_, 1, std::nullopt}, clock_);
  EXPECT_NE(a, b);
  std::vector<std::filesystem::path> stored;
  for (const auto& e : std::filesystem::directory_iterator(config_.bundles())) stored.push_back(e.path());
  ASSERT_EQ(stored.size(), 1u);
  HubState state(config_.state_dir, clock_);
  Transfer t = *state.Find(a);
  EXPECT_EQ(t.path, stored[0]);
  EXPECT_EQ(t.bundle_digest, "sha256:" + stored[0].stem().string());
  EXPECT_EQ(t.file_bytes, std::filesystem::file_size(bundle_));
  EXPECT_EQ(t.as_ref, "test:2.0.0");
  EXPECT_EQ(t.state, TransferState::kQueued);
  EXPECT_EQ(ReadFileToString(stored[0]), ReadFileToString(bundle_));
}

TEST_F(EnqueueTest, AnUnknownSiteIsAnErrorNamingTheConfiguredSites) {
  EXPECT_THAT([&] { EnqueueBundle(config_, {"tromso", bundle_, 0, std::nullopt}, clock_); },
              ThrowsKind(Error::Kind::kInvalidArgument, HasSubstr("site `tromso` is not in hub.yaml (configured: oslo, bergen)")));
}

TEST_F(EnqueueTest, AFileThatIsNotABundleIsRefusedAndNothingIsQueued) {
  WriteFileAtomic(dir_.path() / "junk", std::string(100, 'j'));
  EXPECT_THAT([&] { EnqueueBundle(config_, {"oslo", dir_.path() / "junk", 0, std::nullopt}, clock_); },
              ThrowsKind(Error::Kind::kCorruption));
  EXPECT_FALSE(std::filesystem::exists(config_.bundles()));
}

TEST_F(EnqueueTest, AMalformedAsReferenceIsRefused) {
  EXPECT_THAT([&] { EnqueueBundle(config_, {"oslo", bundle_, 0, "no-tag"}, clock_); },
              ThrowsKind(Error::Kind::kInvalidArgument, HasSubstr("REPO:TAG")));
}

TEST_F(HubStateTest, AVersionOneDatabaseKeepsItsTransfersThroughTheMigration) {
  {
    link::Database v1(dir_.path() / "hub.db", {HubState::Migrations()[0]}, "hub state");
    v1.Exec("INSERT INTO transfers (site, bundle_digest, path, head_bytes, file_bytes, state, queued_at)"
            " VALUES ('oslo', 'sha256:aa', '/b', 10, 20, 'sending', '2026-12-07T08:00:00Z')");
  }
  HubState state(dir_.path(), clock_);
  EXPECT_EQ(state.database().schema_version(), 4);
  ASSERT_TRUE(state.Find(1).has_value());
  EXPECT_EQ(state.Find(1)->state, TransferState::kSending);
  EXPECT_EQ(Ids(state, "oslo"), (std::vector<int64_t>{1}));
}

TEST_F(HubStateTest, AHeldTransferStaysOutOfTheWorkListUntilApprovedForItsSite) {
  HubState state(dir_.path(), clock_);
  NewTransfer row = Row("oslo", 0);
  row.held = true;
  int64_t id = state.Add(row);
  EXPECT_EQ(state.Find(id)->state, TransferState::kHeld);
  EXPECT_TRUE(Ids(state, "oslo").empty());
  EXPECT_FALSE(state.Approve("bergen", id));
  EXPECT_TRUE(state.Approve("oslo", id));
  EXPECT_FALSE(state.Approve("oslo", id));
  EXPECT_EQ(Ids(state, "oslo"), (std::vector<int64_t>{id}));
}

TEST_F(HubStateTest, APlannedTransferSupersedesTheUnstartedOnesOfItsTagAndIsRememberedAsPlanned) {
  HubState state(dir_.path(), clock_);
  int64_t a = state.Add(Planned("oslo", "test:latest", "sha256:01"));
  int64_t b = state.Add(Planned("oslo", "app:latest", "sha256:0a"));
  int64_t c = state.Add(Planned("oslo", "test:latest", "sha256:02"));
  EXPECT_EQ(state.Find(a)->state, TransferState::kSuperseded);
  EXPECT_TRUE(state.Find(a)->finished());
  EXPECT_EQ(Ids(state, "oslo"), (std::vector<int64_t>{b, c}));
  EXPECT_TRUE(state.Planned("oslo", "test:latest", "sha256:01"));
  EXPECT_TRUE(state.Planned("oslo", "test:latest", "sha256:02"));
  EXPECT_FALSE(state.Planned("bergen", "test:latest", "sha256:02"));
}

TEST_F(HubStateTest, ASentTransferIsNotSuperseded) {
  HubState state(dir_.path(), clock_);
  int64_t a = state.Add(Planned("oslo", "test:latest", "sha256:01"));
  state.BeginSending(a);
  int64_t b = state.Add(Planned("oslo", "test:latest", "sha256:02"));
  EXPECT_EQ(Ids(state, "oslo"), (std::vector<int64_t>{a, b}));
}

TEST_F(HubStateTest, AnInventoryReplacesTheSitesLastAndIsAbsentBeforeTheFirst) {
  HubState state(dir_.path(), clock_);
  EXPECT_FALSE(state.Inventory("oslo").has_value());
  state.SetInventory("oslo", {{{"test:1.0.0", "sha256:01"}, {"app:1", "sha256:02"}}, {"sha256:b1", "sha256:b2"}});
  state.SetInventory("oslo", {{{"test:1.0.0", "sha256:01"}}, {"sha256:b1"}});
  std::optional<SiteInventory> got = state.Inventory("oslo");
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->images, (std::map<std::string, std::string>{{"test:1.0.0", "sha256:01"}}));
  EXPECT_EQ(got->blobs, (std::set<std::string>{"sha256:b1"}));
  EXPECT_FALSE(state.Inventory("bergen").has_value());
}

TEST_F(HubStateTest, CountsAddUpWithTheirTransfersAndSurviveARestart) {
  {
    HubState state(dir_.path(), clock_);
    EXPECT_TRUE(state.Counters().empty());
    NewTransfer a = Row("oslo", 0);
    a.counts = {{"delta_cache_misses", 2}};
    NewTransfer b = Row("bergen", 0);
    b.counts = {{"delta_cache_hits", 2}, {"delta_cache_misses", 0}};
    state.Add(a);
    state.Add(b);
    state.Add(b);
  }
  HubState again(dir_.path(), clock_);
  EXPECT_EQ(again.Counters(), (std::map<std::string, uint64_t>{{"delta_cache_hits", 4}, {"delta_cache_misses", 2}}));
}

TEST_F(HubStateTest, AVersionTwoDatabaseGainsItsCountersAndKeepsItsTransfers) {
  {
    link::Database v2(dir_.path() / "hub.db", {HubState::Migrations()[0], HubState::Migrations()[1]}, "hub state");
    v2.Exec("INSERT INTO transfers (site, bundle_digest, path, head_bytes, file_bytes, state, queued_at)"
            " VALUES ('oslo', 'sha256:aa', '/b', 10, 20, 'held', '2026-12-07T08:00:00Z')");
  }
  HubState state(dir_.path(), clock_);
  EXPECT_EQ(state.database().schema_version(), 4);
  EXPECT_EQ(state.Find(1)->state, TransferState::kHeld);
  EXPECT_TRUE(state.Counters().empty());
}

TEST_F(HubStateTest, AVersionTwoDatabaseKeepsItsInventoryAndReadsAsASiteSendingNoSignatures) {
  {
    link::Database v2(dir_.path() / "hub.db", {HubState::Migrations()[0], HubState::Migrations()[1]}, "hub state");
    v2.Exec("INSERT INTO sites (name, inventory_at) VALUES ('oslo', '2026-12-07T08:00:00Z');"
            "INSERT INTO site_images (site, ref, manifest) VALUES ('oslo', 'test:1.0.0', 'sha256:01')");
  }
  HubState state(dir_.path(), clock_);
  EXPECT_EQ(state.database().schema_version(), 4);
  std::optional<SiteInventory> got = state.Inventory("oslo");
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->images.at("test:1.0.0"), "sha256:01");
  EXPECT_EQ(got->signatures, 0u);
  EXPECT_TRUE(state.WantedSignatures("oslo").empty());
}

TEST_F(HubStateTest, AnInventoryRecordsTheSignatureVersionItsAgentSends) {
  HubState state(dir_.path(), clock_);
  SiteInventory inventory{{{"test:1.0.0", "sha256:01"}}, {}};
  inventory.signatures = 1;
  state.SetInventory("oslo", inventory);
  EXPECT_EQ(state.Inventory("oslo")->signatures, 1u);
  state.SetInventory("oslo", {{{"test:1.0.0", "sha256:01"}}, {}});
  EXPECT_EQ(state.Inventory("oslo")->signatures, 0u);
}

TEST_F(HubStateTest, ASignatureIsWantedOnceUntilReceivedAndOnlyWhileTheSiteHoldsItsImage) {
  HubState state(dir_.path(), clock_);
  state.SetInventory("oslo", {{{"test:1.0.0", "sha256:01"}, {"app:1", "sha256:02"}}, {}});
  EXPECT_TRUE(state.RequestSignature("oslo", "test:1.0.0", "sha256:01"));
  EXPECT_FALSE(state.RequestSignature("oslo", "test:1.0.0", "sha256:01"));
  EXPECT_TRUE(state.RequestSignature("oslo", "app:1", "sha256:02"));
  ASSERT_EQ(state.WantedSignatures("oslo").size(), 2u);
  EXPECT_EQ(state.WantedSignatures("oslo")[0].ref, "test:1.0.0");
  EXPECT_EQ(state.WantedSignatures("oslo")[0].requested_at, "2026-12-07T08:59:50Z");
  EXPECT_TRUE(state.WantedSignatures("bergen").empty());

  EXPECT_TRUE(state.ReceiveSignature("oslo", "sha256:01", dir_.path() / "01.sig", 1234));
  EXPECT_FALSE(state.ReceiveSignature("oslo", "sha256:01", dir_.path() / "other.sig", 1));  // the first stands
  EXPECT_FALSE(state.ReceiveSignature("oslo", "sha256:99", dir_.path() / "99.sig", 1));     // never asked
  std::optional<SignatureRow> got = state.Signature("oslo", "sha256:01");
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->path, dir_.path() / "01.sig");
  EXPECT_EQ(got->bytes, 1234u);
  state.UseSignature("oslo", "sha256:01");
  EXPECT_EQ(state.Signature("oslo", "sha256:01")->uses, 1u);

  ASSERT_EQ(state.WantedSignatures("oslo").size(), 1u);
  state.SetInventory("oslo", {{{"test:1.0.0", "sha256:01"}}, {}});  // app:1 is gone from the site
  EXPECT_TRUE(state.WantedSignatures("oslo").empty());
}

TEST_F(HubStateTest, AGivenUpSignatureIsNoLongerWantedAndARestartKeepsEveryRequest) {
  {
    HubState state(dir_.path(), clock_);
    state.SetInventory("oslo", {{{"test:1.0.0", "sha256:01"}, {"app:1", "sha256:02"}}, {}});
    state.RequestSignature("oslo", "test:1.0.0", "sha256:01");
    state.RequestSignature("oslo", "app:1", "sha256:02");
    state.GiveUpSignature("oslo", "sha256:02");
  }
  HubState restarted(dir_.path(), clock_);
  ASSERT_EQ(restarted.WantedSignatures("oslo").size(), 1u);
  EXPECT_EQ(restarted.WantedSignatures("oslo")[0].manifest, "sha256:01");
  EXPECT_TRUE(restarted.Signature("oslo", "sha256:02")->gave_up);
}

}  // namespace
}  // namespace outpost::hub
