#include "hub/watcher.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "common/file.h"
#include "hub/hub.h"
#include "hub/planner.h"
#include "hub/test_support.h"
#include "sync/image_signature.h"
#include "sync/test_images.h"

namespace outpost::hub {
namespace {

using outpost::testing::TestLayer;

const std::string kD1 = "sha256:" + std::string(64, '1');
const std::string kD2 = "sha256:" + std::string(64, '2');
const std::string kD3 = "sha256:" + std::string(64, '3');
const std::string kD4 = "sha256:" + std::string(64, '4');

SiteConfig Subscribed(const std::string& name, std::vector<std::string> images, uint64_t max_bytes = UINT64_MAX) {
  SiteConfig site = testing::Site(name);
  Subscription sub;
  sub.images = std::move(images);
  sub.priority = 3;
  sub.max_bundle_bytes = max_bytes;
  site.subscriptions.push_back(sub);
  return site;
}

bool NothingPlanned(const std::string&, const std::string&, const std::string&) { return false; }

TEST(PlanImages, ASubscribedImageTheSiteLacksIsPlannedAgainstTheSameRepositorysImagesTheSourceHolds) {
  HubConfig config;
  config.sites = {Subscribed("oslo", {"test:*"})};
  SourceImages source = {{"test:1.0.0", kD1}, {"test:2.0.0", kD2}, {"other:1", kD3}};
  std::map<std::string, SiteInventory> inventories = {{"oslo", {{{"test:1.0.0", kD1}, {"other:1", kD3}}, {}}}};
  std::vector<PlannedImage> plan = PlanImages(config, source, inventories, NothingPlanned);
  ASSERT_EQ(plan.size(), 1u);
  EXPECT_EQ(plan[0].site, "oslo");
  EXPECT_EQ(plan[0].ref, "test:2.0.0");
  EXPECT_EQ(plan[0].repo, "test");
  EXPECT_EQ(plan[0].manifest, kD2);
  EXPECT_EQ(plan[0].bases, (std::vector<std::string>{kD1}));
  EXPECT_EQ(plan[0].subscription, &config.sites[0].subscriptions[0]);
}

TEST(PlanImages, ASiteWithoutAnInventoryOrSubscriptionOrWithThePlanDoneGetsNothing) {
  HubConfig config;
  config.sites = {Subscribed("oslo", {"test:*"}), Subscribed("bergen", {"app:*"}), Subscribed("molde", {"test:*"})};
  SourceImages source = {{"test:2.0.0", kD2}};
  std::map<std::string, SiteInventory> inventories = {{"bergen", {}}, {"molde", {}}};
  auto molde_done = [](const std::string& site, const std::string& ref, const std::string& manifest) {
    return site == "molde" && ref == "test:2.0.0" && manifest == kD2;
  };
  EXPECT_TRUE(PlanImages(config, source, inventories, molde_done).empty());
  EXPECT_EQ(PlanImages(config, source, inventories, NothingPlanned).size(), 1u);
}

TEST(PlanImages, AnImageTheSiteHoldsUnderAnotherTagIsNotSentAndABaseTheSourceLacksIsNotUsed) {
  HubConfig config;
  config.sites = {Subscribed("oslo", {"test:*"})};
  SourceImages source = {{"test:latest", kD2}, {"test:2.0.0", kD2}, {"test:3.0.0", kD3}};
  std::map<std::string, SiteInventory> inventories = {{"oslo", {{{"test:2.0.0", kD2}, {"test:0.9", kD1}}, {}}}};
  std::vector<PlannedImage> plan = PlanImages(config, source, inventories, NothingPlanned);
  ASSERT_EQ(plan.size(), 1u);
  EXPECT_EQ(plan[0].ref, "test:3.0.0");
  EXPECT_EQ(plan[0].bases, (std::vector<std::string>{kD2}));
  EXPECT_EQ(plan[0].signature_ref, "") << "a base the source holds needs no signature";
}

TEST(PlanImages, WithNoBaseTheSourceHoldsTheSitesLastImageOfTheRepositoryStandsInForItsSignature) {
  HubConfig config;
  config.sites = {Subscribed("oslo", {"test:*"})};
  SourceImages source = {{"test:3.0.0", kD3}};
  const std::string cosign = "test:sha256-" + std::string(64, 'a') + ".sig";
  std::map<std::string, SiteInventory> inventories = {
      {"oslo", {{{"test:0.9", kD1}, {"test:1.0", kD2}, {cosign, kD4}, {"app:1", kD4}}, {}}}};
  std::vector<PlannedImage> plan = PlanImages(config, source, inventories, NothingPlanned);
  ASSERT_EQ(plan.size(), 1u);
  EXPECT_TRUE(plan[0].bases.empty());
  EXPECT_EQ(plan[0].signature_ref, "test:1.0");
  EXPECT_EQ(plan[0].signature_manifest, kD2);
}

class WatcherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    layout_ = dir_.path() / "home";
    v1_ = WriteAt("test:1.0.0", "one");
    v2_ = WriteAt("test:2.0.0", "two");
    config_.file = "hub.yaml";
    config_.state_dir = dir_.path() / "state";
    config_.source = SourceConfig{"", layout_, std::chrono::seconds(60)};
    config_.sites = {Subscribed("oslo", {"test:*"}), Subscribed("bergen", {"test:*"}, 1000)};
  }

  // An image of a large base layer every version shares and a small one of its own, in `layout`
  // (default: the source's).
  Digest WriteAt(const std::string& tag, const std::string& version, std::filesystem::path layout = {}) {
    std::string base(400000, '\0');  // incompressible (xorshift), so it is ~400 kB whole in a bundle
    uint64_t x = 88172645463325252ull;
    for (char& c : base) {
      x ^= x << 13;
      x ^= x >> 7;
      x ^= x << 17;
      c = static_cast<char>(x >> 32);
    }
    if (layout.empty()) layout = layout_;
    return outpost::testing::WriteImage("oci:" + layout.string() + ":" + tag,
                                        {TestLayer({{"base.bin", base}}, true), TestLayer({{"version", version}}, true)});
  }

  // The site holds test:0.9, which the source never had; its agent sends signatures when
  // `signs`. Returns its manifest digest.
  Digest SiteHoldsAnImageTheSourceLacks(HubState& state, bool signs) {
    Digest v09 = WriteAt("test:0.9", "zero", dir_.path() / "site");
    SiteInventory inventory{{{"test:0.9", v09.str()}}, {}};
    inventory.signatures = signs ? sync::kImageSignatureVersion : 0;
    state.SetInventory("oslo", inventory);
    return v09;
  }

  TempDir dir_;
  std::filesystem::path layout_;
  Digest v1_, v2_;
  HubConfig config_;
  testing::FixedClock clock_{link::ParseUtcTime("2026-12-07T08:59:50Z")};
};

TEST_F(WatcherTest, ANewTagIsDiffedAgainstWhatTheSiteHoldsAndQueuedOnceAcrossRestarts) {
  HubState state(config_.state_dir, clock_);
  EXPECT_TRUE(Watcher(config_, state, clock_).PollOnce().empty());  // no inventory yet
  state.SetInventory("oslo", {{{"test:1.0.0", v1_.str()}}, {}});
  std::vector<int64_t> queued = Watcher(config_, state, clock_).PollOnce();
  ASSERT_EQ(queued.size(), 1u);
  Transfer t = *state.Find(queued[0]);
  EXPECT_EQ(t.site, "oslo");
  EXPECT_EQ(t.as_ref, "test:2.0.0");
  EXPECT_EQ(t.priority, 3);
  EXPECT_EQ(t.state, TransferState::kQueued);
  EXPECT_TRUE(std::filesystem::exists(t.path));
  EXPECT_LT(t.file_bytes, 100'000u);  // the shared 400 kB base does not travel
  EXPECT_TRUE(state.Planned("oslo", "test:2.0.0", v2_.str()));
  HubState restarted(config_.state_dir, clock_);
  EXPECT_TRUE(Watcher(config_, restarted, clock_).PollOnce().empty());
}

TEST_F(WatcherTest, ABundleOverTheSubscriptionsMaxBytesIsHeldUntilApproved) {
  HubState state(config_.state_dir, clock_);
  state.SetInventory("bergen", {});
  std::vector<int64_t> queued = Watcher(config_, state, clock_).PollOnce();
  ASSERT_EQ(queued.size(), 2u);  // both tags, whole: bergen holds nothing
  for (int64_t id : queued) EXPECT_EQ(state.Find(id)->state, TransferState::kHeld);
  EXPECT_TRUE(state.OpenTransfers("bergen").empty());
  EXPECT_TRUE(ApproveTransfer(config_, "bergen", queued[0], clock_));
  EXPECT_EQ(state.OpenTransfers("bergen").size(), 1u);
}

TEST_F(WatcherTest, AMovedTagSupersedesTheQueuedTransferThatHasNotStarted) {
  HubState state(config_.state_dir, clock_);
  state.SetInventory("oslo", {{{"test:1.0.0", v1_.str()}}, {}});
  int64_t first = Watcher(config_, state, clock_).PollOnce().at(0);
  Digest moved = WriteAt("test:2.0.0", "two, fixed");
  std::vector<int64_t> second = Watcher(config_, state, clock_).PollOnce();
  ASSERT_EQ(second.size(), 1u);
  EXPECT_EQ(state.Find(first)->state, TransferState::kSuperseded);
  EXPECT_TRUE(state.Planned("oslo", "test:2.0.0", moved.str()));
  ASSERT_EQ(state.OpenTransfers("oslo").size(), 1u);
  EXPECT_EQ(state.OpenTransfers("oslo")[0].id, second[0]);
}

TEST_F(WatcherTest, ANotifiedPushTheSourceDoesNotListYetIsPlannedAsSoonAsItIsListed) {
  config_.source->poll_interval = std::chrono::hours(1);
  HubState state(config_.state_dir, clock_);
  state.SetInventory("oslo", {{{"test:1.0.0", v1_.str()}, {"test:2.0.0", v2_.str()}}, {}});
  Watcher watcher(config_, state, clock_);
  watcher.Start();
  watcher.Wake({"test:3.0.0"});  // the registry announced it before tagging it
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  Digest v3 = WriteAt("test:3.0.0", "three");
  auto planned = [&] { return HubState(config_.state_dir, clock_).Planned("oslo", "test:3.0.0", v3.str()); };
  for (int i = 0; i < 100 && !planned(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_TRUE(planned()) << "the watcher slept for its poll_interval";
}

TEST_F(WatcherTest, ABaseTheSourceLacksWaitsForTheSitesSignatureThenEveryTagIsADeltaAgainstIt) {
  HubState state(config_.state_dir, clock_);
  Digest v09 = SiteHoldsAnImageTheSourceLacks(state, true);
  EXPECT_TRUE(Watcher(config_, state, clock_).PollOnce().empty()) << "planned before the signature came";
  ASSERT_EQ(state.WantedSignatures("oslo").size(), 1u);
  EXPECT_EQ(state.WantedSignatures("oslo")[0].ref, "test:0.9");
  EXPECT_EQ(state.WantedSignatures("oslo")[0].manifest, v09.str());
  EXPECT_TRUE(Watcher(config_, state, clock_).PollOnce().empty()) << "a second pass did not wait";

  std::filesystem::path sig = dir_.path() / "0.9.sig";
  sync::ComputeImageBlockSignature(storage::Reference::Parse("oci:" + (dir_.path() / "site").string() + ":test:0.9"),
                                   nullptr, dir_.path())
      .Save(sig);
  ASSERT_TRUE(state.ReceiveSignature("oslo", v09.str(), sig, FileSize(sig)));
  std::vector<int64_t> queued = Watcher(config_, state, clock_).PollOnce();
  ASSERT_EQ(queued.size(), 2u);  // test:1.0.0 and test:2.0.0
  for (int64_t id : queued) EXPECT_LT(state.Find(id)->file_bytes, 100'000u) << "the shared 400 kB base travelled";
  EXPECT_EQ(state.Signature("oslo", v09.str())->uses, 2u);
  EXPECT_TRUE(state.WantedSignatures("oslo").empty());
}

TEST_F(WatcherTest, AnAgentThatSendsNoSignaturesGetsWholeBlobsAtOnce) {
  HubState state(config_.state_dir, clock_);
  SiteHoldsAnImageTheSourceLacks(state, false);
  std::vector<int64_t> queued = Watcher(config_, state, clock_).PollOnce();
  ASSERT_EQ(queued.size(), 2u);
  for (int64_t id : queued) EXPECT_GT(state.Find(id)->file_bytes, 100'000u) << "the base was not sent whole";
  EXPECT_TRUE(state.WantedSignatures("oslo").empty());
}

TEST_F(WatcherTest, ASignatureThatDoesNotArriveWithinTheWaitGivesWayToWholeBlobs) {
  HubState state(config_.state_dir, clock_);
  Digest v09 = SiteHoldsAnImageTheSourceLacks(state, true);
  EXPECT_TRUE(Watcher(config_, state, clock_).PollOnce().empty());
  clock_.Set(clock_.Now() + Watcher::kSignatureWait - std::chrono::seconds(1));
  EXPECT_TRUE(Watcher(config_, state, clock_).PollOnce().empty());
  clock_.Set(clock_.Now() + std::chrono::seconds(2));
  EXPECT_EQ(Watcher(config_, state, clock_).PollOnce().size(), 2u);
  EXPECT_TRUE(state.Signature("oslo", v09.str())->gave_up);
  EXPECT_TRUE(state.WantedSignatures("oslo").empty());
}

}  // namespace
}  // namespace outpost::hub
