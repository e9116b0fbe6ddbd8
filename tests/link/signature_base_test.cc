// A site holding a base the hub does not have (issue 14, acceptance): two docker-registry
// instances, "home" holding only test:2.0.0 (test:1.0.0 never reached it, as after a garbage
// collection at home) and "site" holding test:1.0.0; the hub watching home, the agent publishing
// into site, the two daemons through the link simulator at 256 kbit/s. The hub asks the agent
// for its signature of test:1.0.0, diffs test:2.0.0 against it, and skopeo judges what the site
// ends up serving.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <set>

#include "common/digest.h"
#include "common/error.h"
#include "common/file.h"
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

constexpr const char* kLinkRate = "32000";  // bytes/s: 256 kbit/s

// watch_test.cc's realistic pair: a ~3 MB base layer both versions share, and an app layer with
// a 2 MiB library in which 2.0.0 patches a few bytes.
TestImage AppImage(const std::string& version) {
  Files base{{"etc/os-release", "ID=test\nVERSION_ID=12\n"}};
  for (int i = 0; i < 6; ++i) base.emplace("usr/bin/tool" + std::to_string(i), RandomBytes(512 << 10, 10 + i));
  std::string lib = RandomBytes(2 << 20, 100);
  if (version != "1.0.0") {
    for (size_t off = 4096; off + 16 < lib.size(); off += 256 << 10) lib.replace(off, 16, "security-fix-v2!");
  }
  Files app{{"app/version", version + "\n"}, {"app/lib/libcore.so", lib}, {"app/README", "the test app\n"}};
  return BuildImage({TestLayer(base, true), TestLayer(app, true)});
}

// The value of the sample line starting with `prefix` ("name{labels} "), or -1.
double Value(const std::string& text, const std::string& prefix) {
  size_t at = text.find("\n" + prefix);
  if (at == std::string::npos) return -1;
  return std::stod(text.substr(at + 1 + prefix.size()));
}

class SignatureStory {
 public:
  SignatureStory() : home_(TestRegistry::Mode::kHttp), site_(TestRegistry::Mode::kHttp), rig_(Options()) {
    Push("1.0.0", site_.host());
  }

  // Hub, simulator, agent; returns once the hub holds the site's inventory.
  void Start() {
    rig_.StartHub();
    rig_.StartLinksim({"--rate-down", kLinkRate, "--rate-up", kLinkRate});
    rig_.StartAgent();
    auto has_inventory = [&] {
      try {
        return rig_.HubStateDump().find("test:1.0.0|") != std::string::npos;
      } catch (const Error&) {
        return false;  // the hub has not created its database yet
      }
    };
    ASSERT_TRUE(WaitUntil(has_inventory, seconds(60))) << "no inventory reached the hub:\n" << Logs();
  }

  void Push(const std::string& version, const std::string& host) {
    std::string layout = rig_.Path("images").string();
    storage::FileStoreFactory files;
    storage::Reference ref = storage::Reference::Parse("oci:" + layout + ":" + version);
    WriteImage(*storage::OpenStore(ref, &files, /*for_write=*/true), AppImage(version), version);
    RunResult r = RunCommand("skopeo copy --quiet --dest-tls-verify=false oci:" + layout + ":" + version +
                             " docker://" + host + "/test:" + version);
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  void PushHome(const std::string& version) { Push(version, home_.host()); }

  std::string Home(const std::string& tag) const { return "docker://" + home_.host() + "/test:" + tag; }
  std::string Site(const std::string& tag) const { return "docker://" + site_.host() + "/test:" + tag; }
  bool WaitArrived(const std::string& tag, seconds timeout) const {
    return WaitUntil([&] { return !SkopeoDigest(Site(tag)).empty(); }, timeout);
  }
  // The hub's /metrics.
  std::string Metrics() const {
    std::string port = ReadFileToString(rig_.Path("hub-state") / "http_port");
    return RunCommand("curl -s -f http://127.0.0.1:" + port.substr(0, port.find('\n')) + "/metrics").out;
  }
  // The signature files the hub stored for oslo, total bytes.
  uint64_t StoredSignatureBytes() const {
    uint64_t bytes = 0;
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(rig_.Path("hub-state") / "signatures" / "oslo", ec)) {
      if (e.path().extension() == ".sig") bytes += e.file_size();
    }
    return bytes;
  }

  LinkRig& rig() { return rig_; }
  std::string Logs() const { return "hub log:\n" + rig_.HubLog() + "\nagent log:\n" + rig_.AgentLog(); }

 private:
  RigOptions Options() const {
    RigOptions o;
    o.payload_bytes = 4096;  // the rig's own bundle is not used here
    o.hub_extra = "source: docker://" + home_.host() + "\npoll_interval: 1s\nhttp_listen: 127.0.0.1:0\n";
    o.sites_yaml = "  - name: oslo\n    rate: 256kbit\n    subscriptions:\n      - images: [\"test:*\"]\n";
    o.agent_target = "docker://" + site_.host();
    o.stall_timeout = "30s";
    return o;
  }

  TestRegistry home_, site_;
  LinkRig rig_;
};

TEST(SignatureBaseStory, ASiteHoldingABaseTheHubLacksGetsASignatureDeltaAndEndsExact) {
  SignatureStory story;
  story.Start();
  ASSERT_FALSE(HasFailure());
  LinkStats before = story.rig().Stats();
  story.PushHome("2.0.0");
  ASSERT_TRUE(story.WaitArrived("2.0.0", seconds(180))) << story.Logs();

  const std::string home = SkopeoDigest(story.Home("2.0.0"));
  ASSERT_FALSE(home.empty());
  EXPECT_EQ(SkopeoDigest(story.Site("2.0.0")), home);
  EXPECT_EQ(SkopeoDigest(story.Home("1.0.0")), "") << "home must not hold the base";
  LinkStats after = story.rig().Stats();
  const uint64_t down = after.bytes_down - before.bytes_down, up = after.bytes_up - before.bytes_up;
  const uint64_t registry = RegistryPullBytes(story.Site("1.0.0"), story.Home("2.0.0"));
  const uint64_t whole = RegistryPullBytes("", story.Home("2.0.0"));
  const uint64_t signature = story.StoredSignatureBytes();
  std::printf("signature base story: %llu B hub->site and %llu B site->hub (signature file %llu B) crossed the link; "
              "a registry pull ships %llu B to a holder of test:1.0.0, whole blobs %llu B; digest %s\n",
              static_cast<unsigned long long>(down), static_cast<unsigned long long>(up),
              static_cast<unsigned long long>(signature), static_cast<unsigned long long>(registry),
              static_cast<unsigned long long>(whole), home.c_str());
  EXPECT_GT(signature, 0u) << story.Logs();
  EXPECT_GE(up, signature) << "the signature did not cross the link";
  EXPECT_LT(down * 4, registry) << "hub->site carried 25% or more of a registry pull\n" << story.Logs();
  EXPECT_LT((down + up) * 4, registry) << "both directions together carried 25% or more of a registry pull";

  const std::string hub_log = story.rig().HubLog();
  EXPECT_NE(hub_log.find("asked the site for its signature"), std::string::npos) << hub_log;
  EXPECT_NE(hub_log.find("against the site's signature of test:1.0.0"), std::string::npos) << hub_log;
  EXPECT_NE(hub_log.find("(signature-based delta)"), std::string::npos) << hub_log;
  std::string metrics = story.Metrics();
  EXPECT_EQ(Value(metrics, "outpost_hub_signature_deltas_total{site=\"oslo\"} "), 1) << metrics;
  EXPECT_EQ(Value(metrics, "outpost_hub_signatures_awaited{site=\"oslo\"} "), 0) << metrics;
}

}  // namespace
}  // namespace outpost::testing
