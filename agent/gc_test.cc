#include "agent/gc.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "agent/applier.h"
#include "agent/fetcher.h"
#include "agent/target_gc.h"
#include "agent/test_clock.h"
#include "common/file.h"
#include "protocol/bundle_file.h"
#include "sync/diff.h"
#include "tests/support/images.h"
#include "tests/support/matchers.h"

namespace outpost::agent {
namespace {

namespace fs = std::filesystem;
using outpost::testing::BuildImage;
using outpost::testing::TestImage;
using outpost::testing::TestLayer;
using ::testing::ElementsAre;

PublishedVersion Version(int64_t transfer, const std::string& as, std::optional<uint32_t> keep = 2) {
  return {transfer, as, "sha256:" + std::string(63, 'a') + std::to_string(transfer % 10), keep};
}

std::vector<std::string> Tags(const std::vector<PublishedVersion>& versions) {
  std::vector<std::string> out;
  for (const PublishedVersion& v : versions) out.push_back(v.as);
  return out;
}

bool NoBase(const PublishedVersion&) { return false; }

TEST(ChooseRemovals, RemovesTheOldestVersionsBeyondKeepPerRepository) {
  GcChoice c = ChooseRemovals({Version(1, "app:1"), Version(2, "web:1"), Version(3, "app:2"), Version(4, "app:3"),
                               Version(5, "app:4"), Version(6, "web:2")},
                              NoBase);
  EXPECT_THAT(Tags(c.remove), ElementsAre("app:1", "app:2"));
  EXPECT_TRUE(c.spared.empty());
}

TEST(ChooseRemovals, RemovesNothingWithoutAKeepOrWithKeepZero) {
  EXPECT_TRUE(ChooseRemovals({Version(1, "app:1", std::nullopt), Version(2, "app:2", std::nullopt),
                              Version(3, "app:3", std::nullopt)},
                             NoBase)
                  .remove.empty());
  EXPECT_TRUE(ChooseRemovals({Version(1, "app:1"), Version(2, "app:2"), Version(3, "app:3", 0)}, NoBase).remove.empty());
}

TEST(ChooseRemovals, TakesTheKeepOfTheNewestTransferThatCarriedOne) {
  // app:3 came by sneakernet (no keep): the link's last word, 1, stands.
  GcChoice c = ChooseRemovals({Version(1, "app:1", 1), Version(2, "app:2", 1), Version(3, "app:3", std::nullopt)}, NoBase);
  EXPECT_THAT(Tags(c.remove), ElementsAre("app:1", "app:2"));
}

TEST(ChooseRemovals, CountsATagPublishedAgainOnceAsItsLatest) {
  GcChoice c = ChooseRemovals({Version(1, "app:1"), Version(2, "app:2"), Version(3, "app:1"), Version(4, "app:3")}, NoBase);
  EXPECT_THAT(Tags(c.remove), ElementsAre("app:2"));
}

TEST(ChooseRemovals, SparesABaseOfATransferInFlightAndAManifestAKeptVersionShares) {
  std::vector<PublishedVersion> published = {Version(1, "app:1"), Version(2, "app:2"), Version(3, "app:3"),
                                             Version(4, "app:4"), Version(5, "app:5")};
  published[1].manifest = published[4].manifest;  // app:2 and app:5 are one image
  GcChoice c = ChooseRemovals(published, [](const PublishedVersion& v) { return v.as == "app:1"; });
  EXPECT_THAT(Tags(c.remove), ElementsAre("app:3"));
  EXPECT_THAT(Tags(c.spared), ElementsAre("app:1"));
}

TEST(RepositoryOf, IsEverythingBeforeTheLastColon) {
  EXPECT_EQ(RepositoryOf("team/app:1.0"), "team/app");
  EXPECT_EQ(RepositoryOf("app"), "app");
}

// Three versions of one repository: a shared bottom layer and one layer of their own each, alike
// enough that a version's own layer is a delta against the one before.
std::vector<TestImage> ThreeVersions() {
  std::string body;
  for (int j = 0; j < 20000; ++j) body += std::to_string(j * 7919 % 10007) + ",";
  std::vector<TestImage> out;
  for (int i = 1; i <= 3; ++i) {
    out.push_back(BuildImage({TestLayer({{"base.txt", std::string(3000, 'b')}}, true),
                              TestLayer({{"v.txt", "version " + std::to_string(i) + "\n" + body}}, true)}));
  }
  return out;
}

std::unique_ptr<storage::ImageStore> Layout(const fs::path& dir) {
  return storage::OpenStore(storage::Reference::Parse("oci:" + dir.string()), nullptr, true);
}

// Every blob of every image the layout names is present.
void ExpectComplete(const fs::path& dir) {
  auto store = Layout(dir);
  for (const std::string& tag : store->ListTags()) {
    image::ManifestBlob blob = store->ReadManifest(tag);
    for (const image::Descriptor& d : image::ReferencedDescriptors(blob)) EXPECT_TRUE(store->HasBlob(d.digest)) << tag;
  }
}

bool HasBlobFile(const fs::path& dir, const std::string& digest) {
  return fs::exists(dir / "blobs" / "sha256" / Digest::Parse(digest).hex());
}

TEST(RemoveFromLayout, TakesOutTheEntryAndTheBlobsOnlyItUsedAndLeavesTheLayoutValid) {
  TempDir dir;
  std::vector<TestImage> v = ThreeVersions();
  {
    auto store = Layout(dir.path());
    for (int i = 0; i < 3; ++i) outpost::testing::WriteImage(*store, v[i], "app:" + std::to_string(i + 1));
  }
  const std::string first = v[0].manifest.digest.str();
  std::vector<TargetRemoval> r =
      RemoveFromLayout(dir.path(), {{"app:1", first}, {"app:2", "sha256:" + std::string(64, 'f')}});
  EXPECT_THAT(r, ElementsAre(TargetRemoval::kRemoved, TargetRemoval::kGone));
  EXPECT_THAT(Layout(dir.path())->ListTags(), ElementsAre("app:2", "app:3"));
  ExpectComplete(dir.path());
  EXPECT_FALSE(HasBlobFile(dir.path(), first));
  EXPECT_FALSE(HasBlobFile(dir.path(), Digest::Of(v[0].layers[1]).str()));  // its own layer
  EXPECT_FALSE(HasBlobFile(dir.path(), Digest::Of(v[0].config).str()));
  EXPECT_TRUE(HasBlobFile(dir.path(), Digest::Of(v[0].layers[0]).str()));  // shared with app:2 and app:3
}

// An agent whose oci: target receives versions of "app" as real bundles, applied as the daemon
// applies them.
class CollectTest : public ::testing::Test {
 protected:
  void SetUp() override {
    config_.site = "oslo";
    config_.state_dir = dir_.path() / "state";
    config_.target = storage::Reference::Parse("oci:" + target_.string());
    fs::create_directories(config_.state_dir / "spool");
    fs::create_directories(dir_.path() / "scratch");
    auto source = Layout(source_);
    for (int i = 0; i < 3; ++i) outpost::testing::WriteImage(*source, versions_[i], "app:" + std::to_string(i + 1));
  }

  // Diffs version `n` (1-based) against what the target holds and applies it as transfer `n`.
  void Publish(int n, std::optional<uint32_t> keep = 2) {
    const std::string as = "app:" + std::to_string(n);
    sync::DiffOptions o;
    if (fs::exists(target_ / "index.json")) {
      for (const std::string& tag : Layout(target_)->ListTags()) {
        o.from.push_back(storage::Reference::Parse("oci:" + target_.string() + ":" + tag));
      }
    }
    o.to = storage::Reference::Parse("oci:" + source_.string() + ":" + as);
    o.output = dir_.path() / (as + ".bundle");
    o.scratch = dir_.path() / "scratch";
    sync::Diff(o);
    ApplyOutcome out = ApplyBundle(ApplyJob{config_, o.output, as, as, nullptr, stores_});
    ASSERT_TRUE(out.applied) << out.error;
    state_.Begin(WorkItem{n, "sha256:" + std::string(64, 'c'), 1, 1, as, keep});
    state_.SetApplied(n, out.manifest, out.tag);
  }

  TempDir dir_;
  fs::path source_ = dir_.path() / "source";
  fs::path target_ = dir_.path() / "target";
  std::vector<TestImage> versions_ = ThreeVersions();
  AgentConfig config_;
  testing::FixedClock clock_;
  AgentState state_{dir_.path() / "agent.db", clock_};
  std::shared_ptr<storage::StoreFactory> stores_ = std::make_shared<storage::FileStoreFactory>();
};

TEST_F(CollectTest, ThreeVersionsWithKeepTwoEndWithTheNewestTwoAndTheNewestExact) {
  for (int n = 1; n <= 3; ++n) {
    Publish(n);
    EXPECT_EQ(CollectGarbage(config_, state_, *stores_, {}), n == 3 ? 1u : 0u);
  }
  EXPECT_THAT(Layout(target_)->ListTags(), ElementsAre("app:2", "app:3"));
  EXPECT_EQ(Layout(target_)->ReadManifest("app:3").digest, versions_[2].manifest.digest);
  ExpectComplete(target_);
  EXPECT_FALSE(HasBlobFile(target_, versions_[0].manifest.digest.str()));
  ASSERT_EQ(state_.Published().size(), 2u);
  EXPECT_EQ(state_.Published()[0].as, "app:2");
}

TEST_F(CollectTest, AVersionATransferInItsSpoolNeedsAsABaseStaysUntilThatTransferIsApplied) {
  Publish(1);
  Publish(2);
  // Transfer 9 (version 3 against versions 1 and 2) is spooled but not applied yet.
  sync::DiffOptions o;
  o.from = {storage::Reference::Parse("oci:" + target_.string() + ":app:1")};
  o.to = storage::Reference::Parse("oci:" + source_.string() + ":app:3");
  o.output = SpoolPath(config_, 9);
  o.scratch = dir_.path() / "scratch";
  sync::Diff(o);
  RandomAccessFile spool(o.output);
  const protocol::BundleHead head = protocol::ReadHead(spool, "t9");
  const Digest own = Digest::Of(versions_[0].layers[1]);  // app:1's own layer, in no other image
  ASSERT_TRUE(std::any_of(head.header().bases.begin(), head.header().bases.end(),
                          [&](const protocol::BaseLayer& b) { return b.digest == own; }));
  state_.Begin(WorkItem{9, "sha256:" + std::string(64, 'd'), head.head_bytes(), head.file_bytes(), "other:1"});
  state_.SetDurable(9, head.head_bytes());
  state_.Begin(WorkItem{10, "sha256:" + std::string(64, 'e'), 1, 1, "app:9", 1});
  state_.SetApplied(10, versions_[1].manifest.digest.str(), "app:9");  // keep 1 for "app" from now on
  EXPECT_EQ(CollectGarbage(config_, state_, *stores_, {}), 0u);  // app:1 is transfer 9's base; app:2 is app:9's image
  EXPECT_THAT(Layout(target_)->ListTags(), ElementsAre("app:1", "app:2"));
  state_.SetApplied(9, "sha256:" + std::string(64, 'a'), "other:1");
  EXPECT_EQ(CollectGarbage(config_, state_, *stores_, {}), 1u);
  EXPECT_THAT(Layout(target_)->ListTags(), ElementsAre("app:2"));
}

TEST_F(CollectTest, NothingIsRemovedWhileAQueuedTransfersHeadIsNotHereYet) {
  Publish(1, 1);
  Publish(2, 1);
  const WorkItem queued{11, "sha256:" + std::string(64, 'e'), 100, 1000, "app:3", 1};
  EXPECT_EQ(CollectGarbage(config_, state_, *stores_, {queued}), 0u);
  EXPECT_THAT(Layout(target_)->ListTags(), ElementsAre("app:1", "app:2"));
  EXPECT_EQ(CollectGarbage(config_, state_, *stores_, {}), 1u);
  EXPECT_THAT(Layout(target_)->ListTags(), ElementsAre("app:2"));
}

}  // namespace
}  // namespace outpost::agent
