// Carried along (issue 14) with real components: a two-platform index and a cosign-style
// signature pushed at home with skopeo; the hub subscribed for one platform; the agent
// publishing into the site's registry. skopeo judges what the site serves.
#include <gtest/gtest.h>

#include "common/digest.h"
#include "common/error.h"
#include "image/image.h"
#include "storage/image_store.h"
#include "tests/link/link_rig.h"
#include "tests/registry/skopeo.h"
#include "tests/registry/test_registry.h"
#include "tests/support/bytes.h"
#include "tests/support/command.h"
#include "tests/support/images.h"

namespace outpost::testing {
namespace {

using std::chrono::seconds;

std::string IndexEntry(const TestImage& img, const std::string& arch) {
  return "{\"mediaType\":\"" + img.manifest.media_type + "\",\"digest\":\"" + img.manifest.digest.str() +
         "\",\"size\":" + std::to_string(img.manifest.bytes.size()) +
         ",\"platform\":{\"os\":\"linux\",\"architecture\":\"" + arch + "\"}}";
}

// Home and site registries, both holding test:seed; hub subscribed to `platforms` (YAML list)
// with test:multi (an index of amd64 and arm64) and the amd64 manifest's `.sig` pushed at home
// once the hub holds the site's inventory. Returns the link's downstream bytes since then, once
// the `.sig` tag is at the site.
struct Pushed {
  TestImage amd, arm, sig;
  std::string sig_tag;
  uint64_t crossed = 0;
};

void RunStory(TestRegistry& home, TestRegistry& site, const std::string& platforms, Pushed& p) {
  RigOptions o;
  o.payload_bytes = 4096;
  o.hub_extra = "source: docker://" + home.host() + "\npoll_interval: 1s\n";
  o.sites_yaml = "  - name: oslo\n    subscriptions:\n      - images: [\"test:*\"]\n        platforms: " + platforms + "\n";
  o.agent_target = "docker://" + site.host();
  o.stall_timeout = "30s";
  LinkRig rig(o);

  TestImage& amd = p.amd;
  TestImage& arm = p.arm;
  TestImage& sig = p.sig;
  amd = BuildImage({TestLayer({{"bin/app", RandomBytes(200 << 10, 1)}}, true)}, "amd64");
  arm = BuildImage({TestLayer({{"bin/app", RandomBytes(200 << 10, 2)}}, true)}, "arm64");
  sig = BuildImage({TestLayer({{"signature.json", "{\"critical\":{}}"}}, true)}, "amd64");
  TestImage seed = BuildImage({TestLayer({{"seed", "seed"}}, true)}, "amd64");
  std::string layout = rig.Path("images").string();
  storage::FileStoreFactory files;
  auto store = storage::OpenStore(storage::Reference::Parse("oci:" + layout), &files, true);
  WriteImage(*store, amd, "");
  WriteImage(*store, arm, "");
  WriteImage(*store, seed, "seed");
  std::string& sig_tag = p.sig_tag;
  sig_tag = "sha256-" + amd.manifest.digest.hex() + ".sig";
  WriteImage(*store, sig, sig_tag);
  store->WriteManifest(image::ManifestBlob::FromBytes("{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.index.v1+json\","
                                                      "\"manifests\":[" + IndexEntry(amd, "amd64") + "," + IndexEntry(arm, "arm64") + "]}"),
                       "multi");
  auto copy = [&](const std::string& tag, const std::string& host, const char* all) {
    RunResult r = RunCommand(std::string("skopeo copy --quiet ") + all + " --dest-tls-verify=false oci:" + layout + ":" + tag +
                             " docker://" + host + "/test:" + tag);
    ASSERT_EQ(r.exit_code, 0) << r.err;
  };
  copy("seed", home.host(), "");
  copy("seed", site.host(), "");

  rig.StartHub();
  rig.StartLinksim({});
  rig.StartAgent();
  auto has_inventory = [&] {
    try {
      return rig.HubStateDump().find("test:seed|") != std::string::npos;
    } catch (const Error&) {
      return false;
    }
  };
  ASSERT_TRUE(WaitUntil(has_inventory, seconds(60))) << rig.HubLog() << rig.AgentLog();
  uint64_t before = rig.Stats().bytes_down;
  copy("multi", home.host(), "--all");
  copy(sig_tag, home.host(), "");

  const std::string site_repo = "docker://" + site.host() + "/test";
  auto logs = [&] { return "hub log:\n" + rig.HubLog() + "\nagent log:\n" + rig.AgentLog(); };
  ASSERT_TRUE(WaitUntil([&] { return !SkopeoManifest(site_repo + ":" + sig_tag).empty(); }, seconds(120))) << logs();
  if (platforms == "[]") {
    ASSERT_TRUE(WaitUntil([&] { return !SkopeoManifest(site_repo + ":multi").empty(); }, seconds(60))) << logs();
  }
  p.crossed = rig.Stats().bytes_down - before;
}

TEST(MultiArchStory, ASiteSubscribedToOnePlatformGetsOnlyItsLayersByDigestAndItsSignature) {
  TestRegistry home(TestRegistry::Mode::kHttp), site(TestRegistry::Mode::kHttp);
  Pushed p;
  RunStory(home, site, "[linux/amd64]", p);
  ASSERT_FALSE(HasFailure());
  const TestImage &amd = p.amd, &arm = p.arm, &sig = p.sig;
  const std::string site_repo = "docker://" + site.host() + "/test";
  const std::string& sig_tag = p.sig_tag;
  EXPECT_EQ(SkopeoManifest(site_repo + "@" + amd.manifest.digest.str()), amd.manifest.bytes);
  EXPECT_EQ(Digest::Of(SkopeoManifest(site_repo + ":" + sig_tag)), sig.manifest.digest);
  EXPECT_EQ(SkopeoManifest(site_repo + "@" + arm.manifest.digest.str()), "") << "the unsubscribed platform crossed";
  EXPECT_EQ(SkopeoManifest(site_repo + ":multi"), "") << "the home tag names an index the site does not hold whole";
  uint64_t crossed = p.crossed;
  EXPECT_GT(crossed, amd.layers[0].size());
  EXPECT_LT(crossed, amd.layers[0].size() + arm.layers[0].size()) << "more than one platform's layers crossed";
}

TEST(MultiArchStory, ASiteTakingEveryPlatformGetsTheHomeTagOnTheSameIndex) {
  TestRegistry home(TestRegistry::Mode::kHttp), site(TestRegistry::Mode::kHttp);
  Pushed p;
  RunStory(home, site, "[]", p);
  ASSERT_FALSE(HasFailure());
  EXPECT_EQ(SkopeoManifest("docker://" + site.host() + "/test:multi"), SkopeoManifest("docker://" + home.host() + "/test:multi"));
  EXPECT_EQ(SkopeoManifest("docker://" + site.host() + "/test@" + p.arm.manifest.digest.str()), p.arm.manifest.bytes);
}

}  // namespace
}  // namespace outpost::testing
