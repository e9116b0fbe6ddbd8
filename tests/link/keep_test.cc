// Garbage collection at a site (issue 15) with real processes: the hub watches an OCI layout
// (subscribed `test:*` with `keep: 2`), the agent publishes into its target (its OCI layout, or
// a real docker-registry with deletes enabled); three versions pushed one after the other leave
// the site with the newest two, the newest exact and every remaining image whole.
#include <gtest/gtest.h>

#include <algorithm>

#include "common/error.h"
#include "registry/store_factory.h"
#include "storage/image_store.h"
#include "tests/link/link_rig.h"
#include "tests/registry/test_registry.h"
#include "tests/support/bytes.h"
#include "tests/support/images.h"

namespace outpost::testing {
namespace {

using std::chrono::seconds;

TestImage Version(int n) {
  TestLayer base({{"etc/os-release", "ID=test\n"}, {"bin/sh", RandomBytes(64 << 10, 1)}}, true);
  std::string lib = RandomBytes(128 << 10, 2);
  lib.replace(1000, 8, "version" + std::to_string(n));
  return BuildImage({base, TestLayer({{"app/version", std::to_string(n) + ".0.0\n"}, {"app/lib.so", lib}}, true)});
}

// The hub's source layout, the rig (hub, simulator, agent) and where the agent publishes.
class KeepStory {
 public:
  // `target`: the agent's target ("" its OCI layout).
  explicit KeepStory(const std::string& target) : rig_(Options(target)) {}

  void Start() {
    rig_.StartHub();
    rig_.StartLinksim();
    rig_.StartAgent();
  }

  // Writes test:N.0.0 into the source; the hub notices it within a second.
  Digest Push(int n) {
    storage::FileStoreFactory files;
    const std::string tag = "test:" + std::to_string(n) + ".0.0";
    TestImage image = Version(n);
    WriteImage(*storage::OpenStore(storage::Reference::Parse("oci:" + source_.path().string()), &files, true), image, tag);
    return image.manifest.digest;
  }

  std::string Logs() const { return "hub log:\n" + rig_.HubLog() + "\nagent log:\n" + rig_.AgentLog(); }
  LinkRig& rig() { return rig_; }

 private:
  RigOptions Options(const std::string& target) const {
    RigOptions o;
    o.payload_bytes = 4096;  // the rig's own bundle is not used here
    o.hub_extra = "source: oci:" + source_.path().string() + "\npoll_interval: 1s\n";
    o.sites_yaml = "  - name: oslo\n    subscriptions:\n      - {images: [\"test:*\"], keep: 2}\n";
    o.agent_target = target;
    return o;
  }

  TempDir source_;
  LinkRig rig_;
};

// The tags `store` holds, and whether every image it holds has all its blobs.
struct Held {
  std::vector<std::string> tags;
  bool whole = true;
};

Held Inspect(storage::ImageStore& store) {
  Held held;
  for (const std::string& tag : store.ListTags()) {
    held.tags.push_back(tag);
    for (const image::Descriptor& d : image::ReferencedDescriptors(store.ReadManifest(tag))) {
      held.whole = held.whole && store.HasBlob(d.digest);
    }
  }
  return held;
}

// Pushes versions 1..3, each once the one before arrived (as `digest_at(N)` shows); returns the
// newest's digest.
template <typename DigestAt>
Digest PushThree(KeepStory& story, DigestAt digest_at) {
  Digest newest;
  for (int n = 1; n <= 3; ++n) {
    newest = story.Push(n);
    EXPECT_TRUE(WaitUntil([&] { return digest_at(n) == newest.str(); }, seconds(120)))
        << "version " << n << " never arrived\n" << story.Logs();
  }
  return newest;
}

TEST(KeepStory, ThreeVersionsWithKeepTwoLeaveAnOciSiteWithTheNewestTwoEachWhole) {
  KeepStory story("");
  story.Start();
  storage::FileStoreFactory files;
  auto site = [&] { return storage::OpenStore(storage::Reference::Parse("oci:" + story.rig().Path("site").string()), &files, false); };
  auto digest_at = [&](int n) {
    try {
      auto d = site()->Resolve("test:" + std::to_string(n) + ".0.0");
      return d ? d->digest.str() : std::string();
    } catch (const Error&) {
      return std::string();  // being written
    }
  };
  const Digest newest = PushThree(story, digest_at);
  ASSERT_FALSE(::testing::Test::HasFailure());
  ASSERT_TRUE(WaitUntil([&] { return digest_at(1).empty(); }, seconds(30))) << story.Logs();
  Held held = Inspect(*site());
  EXPECT_EQ(held.tags, (std::vector<std::string>{"1.0.0", "test:2.0.0", "test:3.0.0"}));  // 1.0.0: the rig's, not outpost's
  EXPECT_TRUE(held.whole);
  EXPECT_EQ(digest_at(3), newest.str());
  EXPECT_NE(story.rig().AgentLog().find("removed test:1.0.0"), std::string::npos) << story.Logs();
}

TEST(KeepStory, ThreeVersionsWithKeepTwoLeaveARegistrySiteWithTheNewestTwo) {
  TestRegistry registry(TestRegistry::Mode::kHttp);  // deletes enabled (test_registry.cc)
  KeepStory story("docker://" + registry.host());
  story.Start();
  registry::RegistryStoreFactory stores(registry::AccessOptions{});
  auto site = [&] { return stores.Open(storage::Reference::Parse("docker://" + registry.host() + "/test"), false); };
  auto digest_at = [&](int n) {
    try {
      return site()->ReadManifest(std::to_string(n) + ".0.0").digest.str();
    } catch (const Error&) {
      return std::string();
    }
  };
  const Digest newest = PushThree(story, digest_at);
  ASSERT_FALSE(::testing::Test::HasFailure());
  ASSERT_TRUE(WaitUntil([&] { return digest_at(1).empty(); }, seconds(30))) << story.Logs();
  Held held = Inspect(*site());
  EXPECT_EQ(held.tags, (std::vector<std::string>{"2.0.0", "3.0.0"}));
  EXPECT_TRUE(held.whole);
  EXPECT_EQ(digest_at(3), newest.str());
}

}  // namespace
}  // namespace outpost::testing
