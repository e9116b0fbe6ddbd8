// The whole story with real components (issue 14): two docker-registry instances, "home" and
// "site", both holding a realistic test:1.0.0; the hub watching home (`source: docker://home`,
// subscribed `test:*`), the agent publishing into site (`target: docker://site`), the two
// daemons talking through the link simulator at 256 kbit/s. test:2.0.0 is pushed at home with
// skopeo; skopeo is also the judge of what the site ends up serving.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "common/digest.h"
#include "common/error.h"
#include "storage/image_store.h"
#include "tests/link/link_rig.h"
#include "tests/registry/test_registry.h"
#include "tests/support/bytes.h"
#include "tests/support/command.h"
#include "tests/support/images.h"

namespace outpost::testing {
namespace {

using std::chrono::seconds;
using Clock = std::chrono::steady_clock;

constexpr const char* kLinkRate = "32000";  // bytes/s: 256 kbit/s

// The manifest `ref` (docker://HOST/REPO:TAG on a plain-http registry) serves, as skopeo reads
// it; "" when skopeo cannot read it (the tag is not there).
std::string SkopeoManifest(const std::string& ref) {
  RunResult r = RunCommand("skopeo inspect --raw --tls-verify=false " + ref);
  return r.exit_code == 0 ? r.out : "";
}

std::string SkopeoDigest(const std::string& ref) {
  std::string raw = SkopeoManifest(ref);
  return raw.empty() ? "" : Digest::Of(raw).str();
}

// What a registry pull of `to` ships to a holder of `from`: the manifest, the config and the
// layers `from` lacks, at the compressed sizes `to`'s manifest names.
uint64_t RegistryPullBytes(const std::string& from, const std::string& to) {
  nlohmann::json old = nlohmann::json::parse(SkopeoManifest(from));
  std::string raw = SkopeoManifest(to);
  nlohmann::json now = nlohmann::json::parse(raw);
  std::set<std::string> held;
  for (const auto& layer : old["layers"]) held.insert(layer["digest"]);
  uint64_t bytes = raw.size() + now["config"]["size"].get<uint64_t>();
  for (const auto& layer : now["layers"]) {
    if (!held.contains(layer["digest"])) bytes += layer["size"].get<uint64_t>();
  }
  return bytes;
}

// A realistic pair of versions: a base layer of ~3 MB of "binaries" both share, and an app
// layer with a 2 MiB library in which 2.0.0 patches a few bytes (and its version file); with
// `fresh` > 0, the app layer also gains a file of that many new random bytes.
TestImage AppImage(const std::string& version, size_t fresh = 0) {
  Files base{{"etc/os-release", "ID=test\nVERSION_ID=12\n"}};
  for (int i = 0; i < 6; ++i) base.emplace("usr/bin/tool" + std::to_string(i), RandomBytes(512 << 10, 10 + i));
  std::string lib = RandomBytes(2 << 20, 100);
  if (version != "1.0.0") {
    for (size_t off = 4096; off + 16 < lib.size(); off += 256 << 10) lib.replace(off, 16, "security-fix-v2!");
  }
  Files app{{"app/version", version + "\n"}, {"app/lib/libcore.so", lib}, {"app/README", "the test app\n"}};
  if (fresh > 0) app.emplace("app/assets.bin", RandomBytes(fresh, 200));
  return BuildImage({TestLayer(base, true), TestLayer(app, true)});
}

// Hub (watching home), simulator (256 kbit/s) and agent (publishing into site) over two real
// registries; the subscription's max_bundle_bytes is `max_bundle` ("" none).
class Story {
 public:
  explicit Story(const std::string& max_bundle = "")
      : home_(TestRegistry::Mode::kHttp), site_(TestRegistry::Mode::kHttp), rig_(Options(max_bundle)) {
    Push("1.0.0", {home_.host(), site_.host()});
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
    ASSERT_TRUE(WaitUntil(has_inventory, seconds(60)))
        << "the hub never received the site's inventory:\n" << rig_.HubLog() << rig_.AgentLog();
  }

  // Builds test:`version` (AppImage(version, fresh)) and copies it with skopeo into each
  // registry of `hosts`.
  void Push(const std::string& version, const std::vector<std::string>& hosts, size_t fresh = 0) {
    std::string layout = rig_.Path("images").string();
    storage::FileStoreFactory files;
    storage::Reference ref = storage::Reference::Parse("oci:" + layout + ":" + version);
    WriteImage(*storage::OpenStore(ref, &files, /*for_write=*/true), AppImage(version, fresh), version);
    for (const std::string& host : hosts) {
      RunResult r = RunCommand("skopeo copy --quiet --dest-tls-verify=false oci:" + layout + ":" + version +
                               " docker://" + host + "/test:" + version);
      ASSERT_EQ(r.exit_code, 0) << r.err;
    }
  }

  void PushHome(const std::string& version, size_t fresh = 0) { Push(version, {home_.host()}, fresh); }

  std::string Home(const std::string& tag) const { return "docker://" + home_.host() + "/test:" + tag; }
  std::string Site(const std::string& tag) const { return "docker://" + site_.host() + "/test:" + tag; }
  bool Arrived(const std::string& tag) const { return !SkopeoDigest(Site(tag)).empty(); }
  bool WaitArrived(const std::string& tag, seconds timeout) const {
    return WaitUntil([&] { return Arrived(tag); }, timeout);
  }

  // The site's transfers as `outpost hub status --json` lists them.
  nlohmann::json Transfers() const {
    RunResult r = RunCommand(OutpostBinary() + " hub status --json --site oslo --config " + rig_.Path("hub.yaml").string());
    if (r.exit_code != 0) return nlohmann::json::array();
    return nlohmann::json::parse(r.out)["sites"][0]["transfers"];
  }
  // The first transfer in `state`, waiting up to `timeout` for one.
  nlohmann::json WaitTransfer(const std::string& state, seconds timeout) const {
    nlohmann::json found;
    WaitUntil([&] {
      for (const auto& t : Transfers()) {
        if (found.is_null() && t["state"] == state) found = t;
      }
      return !found.is_null();
    }, timeout);
    return found;
  }

  RunResult Hub(const std::string& args) const {
    return RunCommand(OutpostBinary() + " hub " + args + " --config " + rig_.Path("hub.yaml").string());
  }
  LinkRig& rig() { return rig_; }
  std::string Logs() const { return "hub log:\n" + rig_.HubLog() + "\nagent log:\n" + rig_.AgentLog(); }

 private:
  RigOptions Options(const std::string& max_bundle) const {
    RigOptions o;
    o.payload_bytes = 4096;  // the rig's own bundle is not used here
    o.hub_extra = "source: docker://" + home_.host() + "\npoll_interval: 1s\n";
    o.sites_yaml = "  - name: oslo\n    rate: 256kbit\n    subscriptions:\n      - images: [\"test:*\"]\n";
    if (!max_bundle.empty()) o.sites_yaml += "        max_bundle_bytes: " + max_bundle + "\n";
    o.agent_target = "docker://" + site_.host();
    o.stall_timeout = "30s";
    return o;
  }

  TestRegistry home_, site_;
  LinkRig rig_;
};

TEST(WatchStory, APushAtHomeArrivesAtTheSiteRegistryExactAsADeltaFarBelowARegistryPull) {
  Story story;
  story.Start();
  ASSERT_FALSE(HasFailure());
  uint64_t before = story.rig().Stats().bytes_down;
  auto pushed = Clock::now();
  story.PushHome("2.0.0");
  ASSERT_TRUE(story.WaitArrived("2.0.0", seconds(180))) << story.Logs();
  double elapsed = std::chrono::duration<double>(Clock::now() - pushed).count();

  std::string home = SkopeoDigest(story.Home("2.0.0"));
  EXPECT_FALSE(home.empty());
  EXPECT_EQ(SkopeoDigest(story.Site("2.0.0")), home);
  uint64_t registry = RegistryPullBytes(story.Home("1.0.0"), story.Home("2.0.0"));
  nlohmann::json transfer = story.WaitTransfer("applied", seconds(30));
  ASSERT_FALSE(transfer.is_null()) << story.Logs();
  uint64_t link = story.rig().Stats().bytes_down - before;
  std::printf("watch story: %llu B crossed the link (bundle %llu B payload) vs %llu B a registry pull ships; "
              "%.1f s from push to the site serving the tag; digest %s\n",
              static_cast<unsigned long long>(link), static_cast<unsigned long long>(transfer["payload_bytes"].get<uint64_t>()),
              static_cast<unsigned long long>(registry), elapsed, home.c_str());
  EXPECT_EQ(transfer["as"], "test:2.0.0");
  EXPECT_LT(link * 20, registry) << "the link carried more than 5% of a registry pull";
}

TEST(WatchStory, ABundleOverMaxBundleBytesIsHeldUntilApprovedThenArrivesExact) {
  Story story("1KiB");
  story.Start();
  ASSERT_FALSE(HasFailure());
  story.PushHome("2.0.0");
  nlohmann::json held = story.WaitTransfer("held", seconds(60));
  ASSERT_FALSE(held.is_null()) << story.Logs();
  // The agent long-polls every second: a few of its polls pass and still nothing is published.
  std::this_thread::sleep_for(seconds(4));
  EXPECT_FALSE(story.Arrived("2.0.0")) << "a held transfer was published at the site";
  EXPECT_EQ(held["bytes_sent"], 0);

  RunResult approve = story.Hub("approve --site oslo " + std::to_string(held["id"].get<int64_t>()));
  ASSERT_EQ(approve.exit_code, 0) << approve.err;
  ASSERT_TRUE(story.WaitArrived("2.0.0", seconds(120))) << story.Logs();
  EXPECT_EQ(SkopeoDigest(story.Site("2.0.0")), SkopeoDigest(story.Home("2.0.0")));
}

TEST(WatchStory, HubPlanNamesTheLayerMethodsAndATotalFarBelowARegistryPull) {
  Story story("1KiB");  // held: the plan is read while nothing moves
  story.Start();
  ASSERT_FALSE(HasFailure());
  story.PushHome("2.0.0");
  ASSERT_FALSE(story.WaitTransfer("held", seconds(60)).is_null()) << story.Logs();

  RunResult plan = story.Hub("plan --json --site oslo");
  ASSERT_EQ(plan.exit_code, 0) << plan.err;
  nlohmann::json image = nlohmann::json::parse(plan.out)["sites"][0]["images"][0];
  EXPECT_EQ(image["ref"], "test:2.0.0");
  EXPECT_EQ(image["manifest"], SkopeoDigest(story.Home("2.0.0")));
  EXPECT_EQ(image["bases"], nlohmann::json::array({SkopeoDigest(story.Home("1.0.0"))}));
  ASSERT_EQ(image["layers"].size(), 2u) << plan.out;
  EXPECT_EQ(image["layers"][0]["method"], "present");
  EXPECT_EQ(image["layers"][1]["method"], "tar-delta");
  uint64_t registry = RegistryPullBytes(story.Home("1.0.0"), story.Home("2.0.0"));
  EXPECT_EQ(image["registry_bytes"], registry);
  EXPECT_LT(image["bundle_bytes"].get<uint64_t>() * 20, registry) << plan.out;
  EXPECT_NEAR(image["seconds"].get<double>(), image["link_bytes"].get<double>() / 32000.0, 0.01) << plan.out;
  EXPECT_GT(image["link_bytes"].get<uint64_t>(), image["bundle_bytes"].get<uint64_t>()) << plan.out;
}

// An update with 256 KiB of new bytes (~8 s at 256 kbit/s): a few hundred bytes of polls more
// or less do not decide the percent, the TLS framing of 1600-byte slices (1.4%) does.
TEST(WatchStory, HubPlanPredictsTheBytesThatCrossTheLinkWithinOnePercent) {
  Story story("1KiB");  // held: the plan is read before anything moves
  story.Start();
  ASSERT_FALSE(HasFailure());
  story.PushHome("2.0.0", 256 << 10);
  nlohmann::json held = story.WaitTransfer("held", seconds(60));
  ASSERT_FALSE(held.is_null()) << story.Logs();
  RunResult plan = story.Hub("plan --json --site oslo");
  ASSERT_EQ(plan.exit_code, 0) << plan.err;
  nlohmann::json image = nlohmann::json::parse(plan.out)["sites"][0]["images"][0];
  const uint64_t predicted = image["link_bytes"].get<uint64_t>();

  const uint64_t before = story.rig().Stats().bytes_down;
  RunResult approve = story.Hub("approve --site oslo " + std::to_string(held["id"].get<int64_t>()));
  ASSERT_EQ(approve.exit_code, 0) << approve.err;
  ASSERT_TRUE(story.WaitArrived("2.0.0", seconds(120))) << story.Logs();
  ASSERT_FALSE(story.WaitTransfer("applied", seconds(30)).is_null()) << story.Logs();
  const uint64_t crossed = story.rig().Stats().bytes_down - before;
  std::printf("hub plan: predicted %llu B on the link (bundle %llu B); %llu B crossed\n",
              static_cast<unsigned long long>(predicted), static_cast<unsigned long long>(image["bundle_bytes"].get<uint64_t>()),
              static_cast<unsigned long long>(crossed));
  EXPECT_NEAR(static_cast<double>(crossed), static_cast<double>(predicted), 0.01 * static_cast<double>(predicted)) << plan.out;
}

}  // namespace
}  // namespace outpost::testing
