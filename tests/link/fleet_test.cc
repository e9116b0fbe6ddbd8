// Ten sites on the same version (issue 14) with real processes: the hub watching a real
// docker-registry ("home", test:1.0.0 then test:2.0.0 pushed with skopeo), ten agents each
// publishing into its own OCI layout that holds test:1.0.0, all through one link simulator with
// no rate cap. The update's layer deltas are encoded once for the fleet: the hub's /metrics
// count one delta-cache miss per changed layer and a hit for each of the nine other sites, also
// after a restart; every site ends with the home manifest digest.
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <set>

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

constexpr int kSites = 10;

std::vector<std::string> SiteNames() {
  std::vector<std::string> names;
  for (int i = 0; i < kSites; ++i) names.push_back("site" + std::to_string(i));
  return names;
}

// A shared base layer and two app layers in which 2.0.0 patches a few bytes: two changed
// layers, each sent as a delta.
TestImage Version(const std::string& version) {
  TestLayer base({{"etc/os-release", "ID=test\n"}, {"usr/bin/tool", RandomBytes(256 << 10, 1)}}, true);
  std::string lib = RandomBytes(512 << 10, 2), data = RandomBytes(256 << 10, 3);
  if (version != "1.0.0") {
    lib.replace(4096, 16, "security-fix-v2!");
    data.replace(100000, 8, "newdata!");
  }
  return BuildImage({base, TestLayer({{"app/version", version + "\n"}, {"app/lib.so", lib}}, true),
                     TestLayer({{"app/data.bin", data}}, true)});
}

// The value of the sample line starting with `prefix` ("name{labels} "), or -1.
double Value(const std::string& text, const std::string& prefix) {
  size_t at = text.find("\n" + prefix);
  if (at == std::string::npos) return -1;
  return std::stod(text.substr(at + 1 + prefix.size()));
}

class Fleet {
 public:
  Fleet() : home_(TestRegistry::Mode::kHttp), rig_(Options()) {
    const TestImage v1 = Version("1.0.0");  // built once: every copy has the same digests
    Push("1.0.0", v1);
    storage::FileStoreFactory files;
    for (const std::string& site : SiteNames()) {
      storage::Reference ref = storage::Reference::Parse("oci:" + Layout(site));
      WriteImage(*storage::OpenStore(ref, &files, /*for_write=*/true), v1, "test:1.0.0");
    }
  }

  // Hub, simulator (no cap), the ten agents; returns once the hub holds every inventory.
  void Start() {
    rig_.StartHub();
    rig_.StartLinksim();
    for (const std::string& site : SiteNames()) rig_.StartAgent(site);
    auto all_reported = [&] {
      try {
        std::string dump = rig_.HubStateDump();
        for (const std::string& site : SiteNames()) {
          if (dump.find("\n" + site + "|test:1.0.0|") == std::string::npos) return false;
        }
        return true;
      } catch (const Error&) {
        return false;  // the hub has not created its database yet
      }
    };
    ASSERT_TRUE(WaitUntil(all_reported, seconds(120))) << "not every site reported its inventory:\n" << rig_.HubLog();
  }

  // Copies `image` into home as test:`version` with skopeo.
  void Push(const std::string& version, const TestImage& image) {
    std::string layout = rig_.Path("images").string();
    storage::FileStoreFactory files;
    storage::Reference ref = storage::Reference::Parse("oci:" + layout + ":" + version);
    WriteImage(*storage::OpenStore(ref, &files, /*for_write=*/true), image, version);
    RunResult r = RunCommand("skopeo copy --quiet --dest-tls-verify=false oci:" + layout + ":" + version + " docker://" +
                             home_.host() + "/test:" + version);
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }

  std::string Home(const std::string& tag) const { return "docker://" + home_.host() + "/test:" + tag; }
  std::string Layout(const std::string& site) const { return (layouts_.path() / ("layout-" + site)).string(); }

  // The manifest digest test:`tag` names in the site's layout ("" when none).
  std::string SiteDigest(const std::string& site, const std::string& tag) const {
    storage::FileStoreFactory files;
    try {
      auto store = storage::OpenStore(storage::Reference::Parse("oci:" + Layout(site)), &files, false);
      auto d = store->Resolve("test:" + tag);
      return d ? d->digest.str() : "";
    } catch (const Error&) {
      return "";  // being written
    }
  }

  // GET /metrics of the hub.
  std::string Scrape() const {
    std::string port = ReadFileToString(rig_.Path("hub-state") / "http_port");
    RunResult r = RunCommand("curl -s -f http://127.0.0.1:" + port.substr(0, port.find('\n')) + "/metrics");
    return r.exit_code == 0 ? r.out : "";
  }

  LinkRig& rig() { return rig_; }

 private:
  RigOptions Options() const {
    RigOptions o;
    o.payload_bytes = 4096;  // the rig's own bundle is not used here
    o.site_names = SiteNames();
    o.hub_extra = "source: docker://" + home_.host() + "\npoll_interval: 1s\nhttp_listen: 127.0.0.1:0\n";
    for (const std::string& site : SiteNames()) o.sites_yaml += "  - name: " + site + "\n    subscriptions:\n      - images: [\"test:*\"]\n";
    o.agent_target = "oci:" + Layout("{site}");
    return o;
  }

  TestRegistry home_;
  TempDir layouts_;  // each site's target: layout-SITE
  LinkRig rig_;
};

// The layers of `to` that `from` lacks, as skopeo reads their manifests.
size_t ChangedLayers(const std::string& from, const std::string& to) {
  auto layers = [](const std::string& ref) {
    RunResult r = RunCommand("skopeo inspect --raw --tls-verify=false " + ref);
    std::set<std::string> digests;
    if (r.exit_code != 0) return digests;
    const nlohmann::json manifest = nlohmann::json::parse(r.out);
    for (const auto& layer : manifest["layers"]) digests.insert(layer["digest"].get<std::string>());
    return digests;
  };
  std::set<std::string> old = layers(from), now = layers(to);
  return std::count_if(now.begin(), now.end(), [&](const std::string& d) { return !old.contains(d); });
}

TEST(FleetStory, TenSitesOnOneVersionCostOneDeltaEncodePerChangedLayerAndEveryOneEndsExact) {
  Fleet fleet;
  fleet.Start();
  ASSERT_FALSE(HasFailure());
  ASSERT_EQ(fleet.SiteDigest("site0", "1.0.0"), SkopeoDigest(fleet.Home("1.0.0"))) << "the sites do not hold home's base";
  fleet.Push("2.0.0", Version("2.0.0"));
  ASSERT_FALSE(HasFailure());
  const std::string home = SkopeoDigest(fleet.Home("2.0.0"));
  ASSERT_FALSE(home.empty());
  for (const std::string& site : SiteNames()) {
    EXPECT_TRUE(WaitUntil([&] { return fleet.SiteDigest(site, "2.0.0") == home; }, seconds(180)))
        << site << " never served test:2.0.0 at " << home << "\n" << fleet.rig().HubLog();
  }
  const size_t changed = ChangedLayers(fleet.Home("1.0.0"), fleet.Home("2.0.0"));
  EXPECT_EQ(changed, 2u);
  std::string metrics = fleet.Scrape();
  const double hits = Value(metrics, "outpost_hub_delta_cache_hits_total ");
  const double misses = Value(metrics, "outpost_hub_delta_cache_misses_total ");
  std::printf("fleet story: %d sites, %zu changed layers: delta cache %.0f miss(es), %.0f hit(s); %llu B crossed the link\n",
              kSites, changed, misses, hits, static_cast<unsigned long long>(fleet.rig().Stats().bytes_down));
  EXPECT_EQ(misses, static_cast<double>(changed)) << metrics;
  EXPECT_EQ(hits, static_cast<double>(changed * (kSites - 1))) << metrics;

  // The counts live in the hub's database: a restarted hub reports the same.
  fleet.rig().hub().Signal(SIGTERM);
  ASSERT_TRUE(fleet.rig().hub().Wait(seconds(10))) << fleet.rig().HubLog();
  std::filesystem::remove(fleet.rig().Path("hub-state") / "http_port");
  fleet.rig().StartHub();
  ASSERT_TRUE(WaitUntil([&] { return std::filesystem::exists(fleet.rig().Path("hub-state") / "http_port"); }, seconds(20)));
  std::string again = fleet.Scrape();
  EXPECT_EQ(Value(again, "outpost_hub_delta_cache_hits_total "), hits) << again;
  EXPECT_EQ(Value(again, "outpost_hub_delta_cache_misses_total "), misses) << again;
}

}  // namespace
}  // namespace outpost::testing
