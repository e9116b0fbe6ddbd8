#include "hub/planner.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "hub/test_support.h"

namespace outpost::hub {
namespace {

std::string D(char c) { return "sha256:" + std::string(64, c); }

image::Descriptor Entry(char c, const std::string& platform) {
  image::Descriptor d;
  d.media_type = "application/vnd.oci.image.manifest.v1+json";
  d.digest = Digest::Parse(D(c));
  d.size = 500;
  d.platform = image::Platform::Parse(platform);
  return d;
}

HubConfig OneSite(std::vector<std::string> platforms) {
  HubConfig config;
  config.sites = {testing::Site("oslo")};
  Subscription sub;
  sub.images = {"test:*"};
  sub.platforms = std::move(platforms);
  config.sites[0].subscriptions.push_back(sub);
  return config;
}

// test:multi names index I (linux/amd64 = A, linux/arm64 = B, an attestation = C); test:1 is
// single-platform manifest S, signed (its `.sig` tag names G).
SourceImages TwoPlatformSource() {
  SourceImages source = {{"test:multi", D('1')}, {"test:1", D('5')},
                         {"test:sha256-" + std::string(64, '5') + ".sig", D('6')}};
  source.indexes[D('1')] = {Entry('a', "linux/amd64"), Entry('b', "linux/arm64"), Entry('c', "unknown/unknown")};
  return source;
}

bool NothingPlanned(const std::string&, const std::string&, const std::string&) { return false; }

std::map<std::string, SiteInventory> Holding(std::map<std::string, std::string> images) {
  return {{"oslo", {std::move(images), {}}}};
}

TEST(PlanImagesForIndexes, ASiteSubscribedToOnePlatformGetsThatManifestByDigestAndNoIndex) {
  HubConfig config = OneSite({"linux/amd64"});
  std::vector<PlannedImage> plan = PlanImages(config, TwoPlatformSource(), Holding({{"test:1", D('5')}}), NothingPlanned);
  ASSERT_EQ(plan.size(), 1u);
  EXPECT_EQ(plan[0].ref, "test@" + D('a'));
  EXPECT_EQ(plan[0].repo, "test");
  EXPECT_EQ(plan[0].manifest, D('a'));
  EXPECT_TRUE(plan[0].carry.empty());
}

TEST(PlanImagesForIndexes, ASiteTakingEveryPlatformGetsEachManifestWithTheIndexAndItsAttestationsCarried) {
  HubConfig config = OneSite({});
  std::vector<PlannedImage> plan = PlanImages(config, TwoPlatformSource(), Holding({{"test:1", D('5')}}), NothingPlanned);
  ASSERT_EQ(plan.size(), 2u);
  EXPECT_EQ(plan[0].ref, "test@" + D('a'));
  EXPECT_EQ(plan[1].ref, "test@" + D('b'));
  std::vector<CarriedManifest> carried = {{D('c'), ""}, {D('1'), "multi"}};
  EXPECT_EQ(plan[0].carry, carried);
  EXPECT_EQ(plan[1].carry, carried);
}

TEST(PlanImagesForIndexes, AManifestAlreadyPlannedIsNotPlannedAgain) {
  HubConfig config = OneSite({"linux/amd64"});
  auto planned = [](const std::string&, const std::string& ref, const std::string&) { return ref == "test@" + D('a'); };
  EXPECT_TRUE(PlanImages(config, TwoPlatformSource(), Holding({{"test:1", D('5')}}), planned).empty());
}

TEST(PlanImagesForIndexes, AHeldIndexMakesItsManifestsHeldAndBases) {
  HubConfig config = OneSite({});
  SourceImages source = TwoPlatformSource();
  source["test:2"] = D('7');
  std::vector<PlannedImage> plan = PlanImages(config, source, Holding({{"test:multi", D('1')}}), NothingPlanned);
  ASSERT_EQ(plan.size(), 2u);  // test:1 and test:2; nothing of the index
  EXPECT_EQ(plan[0].ref, "test:1");
  EXPECT_EQ(plan[0].bases, (std::vector<std::string>{D('a'), D('b')}));
}

TEST(PlanImagesForCosignTags, ASignatureTagIsCarriedWithTheImageItNamesAndNeverPlannedAlone) {
  HubConfig config = OneSite({"linux/amd64"});
  std::vector<PlannedImage> plan = PlanImages(config, TwoPlatformSource(), Holding({{"test:multi", D('1')}}), NothingPlanned);
  ASSERT_EQ(plan.size(), 1u);
  EXPECT_EQ(plan[0].ref, "test:1");
  EXPECT_EQ(plan[0].carry, (std::vector<CarriedManifest>{{D('6'), "sha256-" + std::string(64, '5') + ".sig"}}));
}

TEST(PlanImagesForReferrers, TheReferrersIndexIsCarriedAfterTheReferrersItListsAndNeverPlannedAlone) {
  HubConfig config = OneSite({});
  SourceImages source = {{"test:1", D('5')}, {"test:sha256-" + std::string(64, '5'), D('8')}};
  image::Descriptor sbom = Entry('9', "linux/amd64");
  sbom.platform.reset();  // a referrer names an artifact type, not a platform
  source.indexes[D('8')] = {sbom};
  std::vector<PlannedImage> plan = PlanImages(config, source, Holding({}), NothingPlanned);
  ASSERT_EQ(plan.size(), 1u);
  EXPECT_EQ(plan[0].ref, "test:1");
  EXPECT_EQ(plan[0].carry, (std::vector<CarriedManifest>{{D('9'), ""}, {D('8'), "sha256-" + std::string(64, '5')}}));
}

TEST(IsAttachedTag, KnowsSignaturesAttestationsSbomsAndTheReferrersTag) {
  const std::string hex(64, 'f');
  EXPECT_TRUE(IsAttachedTag("sha256-" + hex + ".sig"));
  EXPECT_TRUE(IsAttachedTag("sha256-" + hex + ".att"));
  EXPECT_TRUE(IsAttachedTag("sha256-" + hex + ".sbom"));
  EXPECT_TRUE(IsAttachedTag("sha256-" + hex));
  EXPECT_FALSE(IsAttachedTag("sha256-" + hex + ".tar"));
  EXPECT_FALSE(IsAttachedTag("sha256-" + hex + "0"));
  EXPECT_FALSE(IsAttachedTag("sha256-abc.sig"));
  EXPECT_FALSE(IsAttachedTag("sha256-abc"));
  EXPECT_FALSE(IsAttachedTag("2.0.0"));
}

TEST(RepoOf, TakesTheRepositoryOfATagOrADigestReference) {
  EXPECT_EQ(RepoOf("team/app:2.0"), "team/app");
  EXPECT_EQ(RepoOf("team/app@" + D('a')), "team/app");
}

}  // namespace
}  // namespace outpost::hub
