// The registry webhook end to end: the real Debian docker-registry, configured with the
// `notifications:` block docs/metrics.md gives, posts its push events to a running `outpost
// hub` whose poll_interval is an hour; the push alone makes the hub plan and queue the image.
// The hub's plain-HTTP listener refuses bad tokens, oversized and malformed bodies, counts them
// in /metrics, and stops with the daemon on SIGTERM.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <chrono>
#include <fstream>
#include <thread>

#include "common/file.h"
#include "hub/hub_state.h"
#include "link/clock.h"
#include "link/metrics_text.h"
#include "link/pki.h"
#include "tests/registry/test_registry.h"
#include "tests/support/command.h"

namespace outpost::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;
using std::chrono::seconds;
using std::chrono::steady_clock;

constexpr const char* kToken = "webhook-test-token-0123456789";

// The registry side, as docs/metrics.md gives it.
std::string NotificationsBlock(const std::string& hub_http) {
  return "notifications:\n"
         "  endpoints:\n"
         "    - name: outpost-hub\n"
         "      url: http://" + hub_http + "/v1/notifications\n"
         "      headers:\n"
         "        Authorization: [Bearer " + std::string(kToken) + "]\n"
         "      timeout: 5s\n"
         "      threshold: 5\n"
         "      backoff: 1s\n"
         "      ignore:\n"
         "        mediatypes: [application/octet-stream]\n"
         "        actions: [pull]\n";
}

// Polls `done` every 100 ms for up to `timeout`.
template <typename Pred>
bool Within(Pred done, std::chrono::milliseconds timeout) {
  auto end = steady_clock::now() + timeout;
  while (!done()) {
    if (steady_clock::now() > end) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return true;
}

class HubWebhookTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto pki = dir_.path() / "pki";
    link::InitCa(pki);
    link::IssueOptions host;
    host.hosts = {"127.0.0.1"};
    link::IssueCertificate(pki, "hub", host);
    registry_port_ = FreePort();
    std::ofstream(dir_.path() / "hub.yaml")
        << "listen: 127.0.0.1:0\n"
        << "state_dir: " << state().string() << "\n"
        << "tls: {ca: " << (pki / "ca.pem").string() << ", cert: " << (pki / "hub.pem").string() << ", key: "
        << (pki / "hub.key").string() << "}\n"
        << "source: docker://127.0.0.1:" << registry_port_ << "\n"
        << "poll_interval: 1h\n"
        << "http_listen: 127.0.0.1:0\n"
        << "notifications_token: " << kToken << "\n"
        << "sites:\n  - name: oslo\n    subscriptions:\n      - images: [\"test:*\"]\n";
    {  // oslo has reported an empty target, as its agent does on connecting
      hub::HubState hub_state(state(), *clock_);
      hub_state.AddSites({"oslo"});
      hub_state.SetInventory("oslo", {});
    }
    hub_pid_ = Spawn({OutpostBinary(), "hub", "--config", (dir_.path() / "hub.yaml").string()}, log());
    ASSERT_TRUE(Within([&] { return std::filesystem::exists(state() / "http_port"); }, seconds(20))) << ReadFileToString(log());
    http_port_ = std::stoi(ReadFileToString(state() / "http_port"));
    registry_ = std::make_unique<TestRegistry>(TestRegistry::Mode::kHttp, NotificationsBlock(http()), registry_port_);
  }

  void TearDown() override {
    if (hub_pid_ > 0) {
      kill(hub_pid_, SIGKILL);
      waitpid(hub_pid_, nullptr, 0);
    }
  }

  std::filesystem::path state() const { return dir_.path() / "hub-state"; }
  std::string log() const { return (dir_.path() / "hub.log").string(); }
  std::string http() const { return "127.0.0.1:" + std::to_string(http_port_); }
  std::vector<hub::Transfer> Open() { return hub::HubState(state(), *clock_).OpenTransfers("oslo"); }
  // curl's status code for a POST of the file `body` with `authorization`.
  std::string Post(const std::filesystem::path& body, const std::string& authorization) {
    std::string out;
    Shell("curl -s -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: application/vnd.docker.distribution.events.v1+json' "
          "-H 'Authorization: " + authorization + "' --data-binary @" + body.string() + " http://" + http() + "/v1/notifications",
          &out);
    return out;
  }

  TempDir dir_;
  std::unique_ptr<link::Clock> clock_ = link::SystemClock();
  int registry_port_ = 0;
  int http_port_ = 0;
  pid_t hub_pid_ = -1;
  std::unique_ptr<TestRegistry> registry_;
};

TEST_F(HubWebhookTest, APushToTheRealRegistryIsQueuedLongBeforeThePollInterval) {
  MakeImage(dir_.path() / "img", "2.0.0", "300000,20000");
  std::string out;
  ASSERT_EQ(Shell("skopeo copy --quiet --dest-tls-verify=false oci:" + (dir_.path() / "img").string() + ":2.0.0 docker://" +
                      registry_->host() + "/test:2.0.0",
                  &out),
            0)
      << out;
  auto pushed = steady_clock::now();
  ASSERT_TRUE(Within([&] { return !Open().empty(); }, seconds(60))) << ReadFileToString(log());
  EXPECT_LT(steady_clock::now() - pushed, seconds(60));  // the poll would come after an hour
  EXPECT_EQ(Open().front().as_ref, "test:2.0.0");
  EXPECT_THAT(ReadFileToString(log()), HasSubstr("registry notification: pushed test:2.0.0"));
}

TEST_F(HubWebhookTest, BadTokensOversizedAndMalformedBodiesAreRefusedLoggedAndCounted) {
  const auto envelope = dir_.path() / "envelope.json", big = dir_.path() / "big.json", broken = dir_.path() / "broken.json";
  WriteFileAtomic(envelope, R"({"events":[{"action":"push","target":{"repository":"test","tag":"9"}}]})");
  WriteFileAtomic(big, std::string(2 << 20, ' '));
  WriteFileAtomic(broken, R"({"events":[)");
  const std::string good = std::string("Bearer ") + kToken;
  EXPECT_EQ(Post(envelope, "Bearer not-the-token"), "401");
  EXPECT_EQ(Post(big, good), "413");
  EXPECT_EQ(Post(broken, good), "400");
  EXPECT_EQ(Post(envelope, good), "202");
  std::string log_text = ReadFileToString(log());
  EXPECT_THAT(log_text, HasSubstr("registry notification refused (401)"));
  EXPECT_THAT(log_text, HasSubstr("refused (413)"));
  EXPECT_THAT(log_text, HasSubstr("registry notification refused (400)"));

  std::string metrics;
  ASSERT_EQ(Shell("curl -s http://" + http() + "/metrics", &metrics), 0);
  EXPECT_THAT(link::ExpositionProblems(metrics), IsEmpty()) << metrics;
  EXPECT_THAT(metrics, HasSubstr("outpost_hub_errors_total{kind=\"notification_unauthorized\"} 1\n"));
  EXPECT_THAT(metrics, HasSubstr("outpost_hub_errors_total{kind=\"notification_malformed\"} 1\n"));
  EXPECT_THAT(metrics, HasSubstr("outpost_hub_errors_total{kind=\"http_request_refused\"} 1\n"));
}

TEST_F(HubWebhookTest, SigtermStopsTheHubAndItsHttpListener) {
  ASSERT_TRUE(WaitForPort(http_port_, 5));
  kill(hub_pid_, SIGTERM);
  int status = 0;
  ASSERT_TRUE(Within([&] { return waitpid(hub_pid_, &status, WNOHANG) == hub_pid_; }, seconds(10))) << ReadFileToString(log());
  hub_pid_ = -1;
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  EXPECT_FALSE(WaitForPort(http_port_, 1));
}

}  // namespace
}  // namespace outpost::testing
