// Carried along (issue 14) with real components: a two-platform index, a cosign-style
// signature and an SBOM under the OCI referrers tag pushed at home with skopeo; the hub subscribed for one platform; the agent
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
// with test:multi (an index of amd64 and arm64), the amd64 manifest's `.sig` and its referrers
// index (an SBOM) pushed at home once the hub holds the site's inventory, before the index.
// Returns the link's downstream bytes since then, once the `.sig` and referrers tags are at the
// site.
struct Pushed {
  TestImage amd, arm, sig;
  std::string sig_tag;
  std::string sbom;          // the digest of an SBOM artifact whose subject is amd
  std::string referrers_tag;  // the OCI referrers tag of amd: an index listing the SBOM
  uint64_t crossed = 0;
};

// Writes an SBOM artifact whose subject is `subject` and the OCI referrers index listing it,
// tagged `referrers_tag`, as a client of a registry without the referrers API does; returns the
// SBOM manifest's digest.
std::string WriteReferrer(storage::ImageStore& store, const TestImage& subject, const std::string& referrers_tag) {
  TestImage sbom;
  sbom.config = "{}";
  sbom.layers = {"{\"spdxVersion\":\"SPDX-2.3\",\"name\":\"app\"}"};
  auto descriptor = [](const std::string& media_type, const std::string& blob) {
    return "{\"mediaType\":\"" + media_type + "\",\"digest\":\"" + Digest::Of(blob).str() +
           "\",\"size\":" + std::to_string(blob.size()) + "}";
  };
  sbom.manifest = image::ManifestBlob::FromBytes(
      "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"artifactType\":\"application/spdx+json\","
      "\"config\":" + descriptor("application/vnd.oci.empty.v1+json", sbom.config) +
      ",\"layers\":[" + descriptor("application/spdx+json", sbom.layers[0]) + "],\"subject\":" +
      descriptor(subject.manifest.media_type, subject.manifest.bytes) + "}");
  WriteImage(store, sbom, "");
  store.WriteManifest(image::ManifestBlob::FromBytes("{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.index.v1+json\","
                                                     "\"manifests\":[" + descriptor(sbom.manifest.media_type, sbom.manifest.bytes) + "]}"),
                      referrers_tag);
  store.Commit();
  return sbom.manifest.digest.str();
}

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
  p.referrers_tag = "sha256-" + amd.manifest.digest.hex();
  p.sbom = WriteReferrer(*store, amd, p.referrers_tag);
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
  copy(sig_tag, home.host(), "");  // the attachments first: a poll between would send amd without them
  copy(p.referrers_tag, home.host(), "--all");
  copy("multi", home.host(), "--all");

  const std::string site_repo = "docker://" + site.host() + "/test";
  auto logs = [&] { return "hub log:\n" + rig.HubLog() + "\nagent log:\n" + rig.AgentLog(); };
  ASSERT_TRUE(WaitUntil([&] { return !SkopeoManifest(site_repo + ":" + sig_tag).empty(); }, seconds(120))) << logs();
  ASSERT_TRUE(WaitUntil([&] { return !SkopeoManifest(site_repo + ":" + p.referrers_tag).empty(); }, seconds(60))) << logs();
  if (platforms == "[]") {
    ASSERT_TRUE(WaitUntil([&] { return !SkopeoManifest(site_repo + ":multi").empty(); }, seconds(60))) << logs();
  }
  p.crossed = rig.Stats().bytes_down - before;
}

TEST(MultiArchStory, ASiteSubscribedToOnePlatformGetsOnlyItsLayersByDigestItsSignatureAndItsReferrers) {
  TestRegistry home(TestRegistry::Mode::kHttp), site(TestRegistry::Mode::kHttp);
  Pushed p;
  RunStory(home, site, "[linux/amd64]", p);
  ASSERT_FALSE(HasFailure());
  const TestImage &amd = p.amd, &arm = p.arm, &sig = p.sig;
  const std::string site_repo = "docker://" + site.host() + "/test";
  const std::string& sig_tag = p.sig_tag;
  EXPECT_EQ(SkopeoManifest(site_repo + "@" + amd.manifest.digest.str()), amd.manifest.bytes);
  EXPECT_EQ(Digest::Of(SkopeoManifest(site_repo + ":" + sig_tag)), sig.manifest.digest);
  EXPECT_EQ(SkopeoManifest(site_repo + ":" + p.referrers_tag), SkopeoManifest("docker://" + home.host() + "/test:" + p.referrers_tag));
  EXPECT_EQ(SkopeoManifest(site_repo + "@" + p.sbom), SkopeoManifest("docker://" + home.host() + "/test@" + p.sbom))
      << "the SBOM the referrers tag lists is not at the site";
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
