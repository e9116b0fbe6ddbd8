// Issue 14's closing numbers, with real components: two docker-registry instances ("home",
// which notifies the hub of pushes by webhook, and "site"), `outpost hub` watching home,
// `outpost agent` publishing into site, the link simulator between them unconstrained, and the
// story's images made of real Debian packages (tests/link/debian_image.h).
//
//   build/bench/link/story_bench [IDLE_SECONDS]   (about 2 minutes plus IDLE_SECONDS, default 300)
//
// For each update (1.0.0 -> 2.0.0 -> 3.0.0): the time from the start of `skopeo copy` into home
// to the moment skopeo reads the tag at the site, beside a plain `skopeo copy` of the same tag
// from home into a third registry that holds what the site held. Then the link's idle bytes:
// everything applied, hub and agent at their default link settings (poll_wait 55s,
// stall_timeout 30s), both directions counted by the simulator over IDLE_SECONDS, per hour.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>

#include "common/digest.h"
#include "common/error.h"
#include "storage/image_store.h"
#include "tests/link/debian_image.h"
#include "tests/link/link_rig.h"
#include "tests/registry/test_registry.h"
#include "tests/support/command.h"
#include "tests/support/ports.h"

namespace outpost::testing {
namespace {

using Clock = std::chrono::steady_clock;
constexpr const char* kToken = "story-bench-webhook-token-0123456789";

double Since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

void Skopeo(const std::string& args) {
  RunResult r = RunCommand("skopeo " + args);
  if (r.exit_code != 0) throw IOError("skopeo ", args, ": ", r.err);
}

std::string Manifest(const std::string& ref) {
  RunResult r = RunCommand("skopeo inspect --raw --tls-verify=false " + ref);
  return r.exit_code == 0 ? r.out : "";
}

// The registry side of the hub's webhook (docs/metrics.md).
std::string Notifications(int hub_http_port) {
  return "notifications:\n  endpoints:\n    - name: outpost-hub\n      url: http://127.0.0.1:" +
         std::to_string(hub_http_port) + "/v1/notifications\n      headers:\n        Authorization: [Bearer " +
         kToken + "]\n      timeout: 5s\n      threshold: 5\n      backoff: 1s\n      ignore:\n"
         "        mediatypes: [application/octet-stream]\n        actions: [pull]\n";
}

class StoryBench {
 public:
  StoryBench()
      : http_port_(FreePort()),
        home_(TestRegistry::Mode::kHttp, Notifications(http_port_)),
        site_(TestRegistry::Mode::kHttp),
        plain_(TestRegistry::Mode::kHttp),
        rig_(Options()) {}

  // test:VERSION into the bench's OCI layout.
  void Build(const std::string& version) {
    storage::FileStoreFactory files;
    storage::Reference ref = storage::Reference::Parse("oci:" + Layout(version));
    WriteImage(*storage::OpenStore(ref, &files, /*for_write=*/true), StoryImage(version, rig_.Path("scratch")), version);
  }

  // 1.0.0 in all three registries, then hub, simulator (unconstrained) and agent; returns once
  // the hub holds the site's inventory.
  void Start() {
    for (const TestRegistry* r : {&home_, &site_, &plain_}) Skopeo(Copy("oci:" + Layout("1.0.0"), Ref(*r, "1.0.0")));
    rig_.StartHub();
    rig_.StartLinksim();
    rig_.StartAgent();
    auto ready = [&] {
      try {
        return rig_.HubStateDump().find("test:1.0.0|") != std::string::npos;
      } catch (const Error&) {
        return false;
      }
    };
    if (!WaitUntil(ready, std::chrono::seconds(60))) throw IOError("no inventory at the hub: ", rig_.HubLog());
  }

  void Update(const std::string& version) {
    const uint64_t before = Bytes();
    auto start = Clock::now();
    Skopeo(Copy("oci:" + Layout(version), Ref(home_, version)));
    const double pushed = Since(start);
    while (Manifest(Ref(site_, version)).empty()) {
      if (Since(start) > 600) throw IOError("test:", version, " did not reach the site in 10 minutes");
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    const double served = Since(start);
    const uint64_t link = Bytes() - before;
    if (Manifest(Ref(site_, version)) != Manifest(Ref(home_, version))) throw IOError("the site's manifest differs");
    auto plain = Clock::now();
    Skopeo(Copy(Ref(home_, version), Ref(plain_, version)));
    std::printf("| test:%s | %6.2f s | %7.2f s | %9llu | %7.2f s |\n", version.c_str(), pushed, served,
                static_cast<unsigned long long>(link), Since(plain));
  }

  // Link bytes (both ways) over `seconds` of idleness, once the agent has reported everything.
  void Idle(int seconds) {
    std::this_thread::sleep_for(std::chrono::seconds(10));  // the last result's report and inventory
    const uint64_t before = Bytes();
    const uint64_t connections = rig_.Stats().connections;
    std::this_thread::sleep_for(std::chrono::seconds(seconds));
    const uint64_t idle = Bytes() - before;
    std::printf("\n| idle, one site | measured over | link bytes (both ways) | connections opened | per hour |\n");
    std::printf("|---|---:|---:|---:|---:|\n");
    std::printf("| default settings | %d s | %llu | %llu | %.0f B |\n", seconds, static_cast<unsigned long long>(idle),
                static_cast<unsigned long long>(rig_.Stats().connections - connections), idle * 3600.0 / seconds);
  }

 private:
  RigOptions Options() const {
    RigOptions o;
    o.payload_bytes = 4096;  // the rig's own bundle is not used here
    o.hub_extra = "source: docker://" + home_.host() + "\nhttp_listen: 127.0.0.1:" + std::to_string(http_port_) +
                  "\nnotifications_token: " + kToken + "\n";
    o.sites_yaml = "  - name: oslo\n    subscriptions:\n      - images: [\"test:*\"]\n";
    o.agent_target = "docker://" + site_.host();
    o.stall_timeout = "30s";  // the agent's defaults (agent/agent_config.h)
    o.backoff_max = "5m";
    return o;
  }
  std::string Layout(const std::string& version) const { return rig_.Path("images").string() + ":" + version; }
  static std::string Ref(const TestRegistry& r, const std::string& version) {
    return "docker://" + r.host() + "/test:" + version;
  }
  static std::string Copy(const std::string& from, const std::string& to) {
    return "copy --quiet --src-tls-verify=false --dest-tls-verify=false " + from + " " + to;
  }
  uint64_t Bytes() const {
    LinkStats s = rig_.Stats();
    return s.bytes_down + s.bytes_up;
  }

  int http_port_;
  TestRegistry home_, site_, plain_;
  LinkRig rig_;
};

}  // namespace
}  // namespace outpost::testing

int main(int argc, char** argv) {
  using outpost::testing::StoryBench;
  const int idle = argc > 1 ? std::atoi(argv[1]) : 300;
  for (const char* version : {"1.0.0", "2.0.0", "3.0.0"}) {
    auto missing = outpost::testing::MissingDebs(outpost::testing::StoryDebs(version));
    if (!missing.empty()) {
      std::fprintf(stderr, "story_bench: %s is missing: run tests/link/fetch_debs.sh\n",
                   missing[0].c_str());
      return 2;
    }
  }
  StoryBench bench;
  for (const char* version : {"1.0.0", "2.0.0", "3.0.0"}) bench.Build(version);
  bench.Start();
  std::printf("| update | skopeo copy into home | push -> served at the site (outpost) | link bytes | plain skopeo "
              "copy home -> site |\n");
  std::printf("|---|---:|---:|---:|---:|\n");
  bench.Update("2.0.0");
  bench.Update("3.0.0");
  bench.Idle(idle);
  return 0;
}
