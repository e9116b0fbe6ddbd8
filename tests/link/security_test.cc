// Who may talk to the hub: only clients with a certificate the deployment's CA signed, each
// reading only its own site's queue, within the protocol's size limits. Every refusal is
// logged and leaves the hub's state exactly as it was. Driven with curl, as an operator would.
#include <gtest/gtest.h>

#include "link/clock.h"
#include "link/pki.h"
#include "tests/link/link_rig.h"
#include "tests/support/command.h"

namespace outpost::testing {
namespace {

using std::chrono::seconds;

class HubSecurity : public ::testing::Test {
 protected:
  void SetUp() override {
    rig_.StartHub();
    ASSERT_TRUE(WaitUntil([&] { return Curl("oslo", "/v1/work").out.find("transfers") != std::string::npos; },
                          seconds(20)))
        << rig_.HubLog();
    bergen_id_ = std::stoll(rig_.Enqueue("bergen"));
    before_ = rig_.HubStateDump();
  }

  // curl against the hub as `cert` (a name under pki/, or a path prefix), printing the status.
  RunResult Curl(const std::string& cert, const std::string& path, const std::string& extra = "") {
    std::string pki = rig_.Path("pki").string();
    std::string who = cert.empty() ? "" : (cert.find('/') == std::string::npos ? " --cert " + pki + "/" + cert + ".pem --key " + pki + "/" + cert + ".key" : " --cert " + cert + ".pem --key " + cert + ".key");
    return RunCommand("curl -sS --max-time 20 -o - -w '\\n%{http_code}' --cacert " + pki + "/ca.pem" + who +
                      " -H 'Outpost-Protocol: 1' " + extra + " https://127.0.0.1:" +
                      std::to_string(rig_.hub_port()) + path);
  }
  static std::string Status(const RunResult& r) { return r.out.substr(r.out.rfind('\n') + 1); }

  void ExpectStateUnchanged() { EXPECT_EQ(rig_.HubStateDump(), before_); }

  // A small bundle: these tests are about who may ask, not about what travels.
  static RigOptions SmallBundle() {
    RigOptions o;
    o.payload_bytes = 256 << 10;
    return o;
  }

  LinkRig rig_{SmallBundle()};
  int64_t bergen_id_ = 0;
  std::string before_;
};

TEST_F(HubSecurity, AClientWithoutACertificateIsRefusedAndLogged) {
  size_t log = rig_.HubLog().size();
  RunResult r = Curl("", "/v1/work");
  EXPECT_NE(r.exit_code, 0) << r.out;
  EXPECT_TRUE(WaitUntil([&] { return rig_.HubLog().size() > log; }, seconds(5))) << "nothing logged";
  ExpectStateUnchanged();
}

TEST_F(HubSecurity, ACertificateFromAnotherCaIsRefused) {
  link::InitCa(rig_.Path("other"));
  link::IssueCertificate(rig_.Path("other"), "oslo", {});
  size_t log = rig_.HubLog().size();
  RunResult r = Curl(rig_.Path("other/oslo").string(), "/v1/work");
  EXPECT_NE(r.exit_code, 0) << r.out;
  EXPECT_TRUE(WaitUntil([&] { return rig_.HubLog().size() > log; }, seconds(5))) << "nothing logged";
  ExpectStateUnchanged();
}

TEST_F(HubSecurity, AnExpiredCertificateIsRefused) {
  link::IssueOptions o;
  o.days = 1;
  o.not_before = std::chrono::system_clock::now() - std::chrono::hours(24 * 30);
  link::IssueCertificate(rig_.Path("pki"), "oslo-expired", o);
  size_t log = rig_.HubLog().size();
  RunResult r = Curl("oslo-expired", "/v1/work");
  EXPECT_NE(r.exit_code, 0) << r.out;
  EXPECT_TRUE(WaitUntil([&] { return rig_.HubLog().find("expired", log) != std::string::npos; }, seconds(5)))
      << rig_.HubLog();
  ExpectStateUnchanged();
}

TEST_F(HubSecurity, GarbageInsteadOfTlsIsRefusedAndLogged) {
  size_t log = rig_.HubLog().size();
  RunResult r = RunCommand("printf 'GET /v1/work HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n' | timeout 10 bash -c 'cat > /dev/tcp/127.0.0.1/" +
                           std::to_string(rig_.hub_port()) + "'");
  EXPECT_TRUE(WaitUntil([&] { return rig_.HubLog().size() > log; }, seconds(5))) << "nothing logged";
  ExpectStateUnchanged();
}

TEST_F(HubSecurity, ASiteCannotReadAnotherSitesTransfer) {
  for (const char* what : {"/head", "/payload"}) {
    RunResult r = Curl("oslo", "/v1/transfers/" + std::to_string(bergen_id_) + what, "-H 'Range: bytes=0-99'");
    EXPECT_EQ(Status(r), "404") << r.out << r.err;
  }
  RunResult work = Curl("oslo", "/v1/work");
  EXPECT_EQ(work.out.find("\"id\":" + std::to_string(bergen_id_)), std::string::npos) << work.out;
  RunResult own = Curl("bergen", "/v1/transfers/" + std::to_string(bergen_id_) + "/head");
  EXPECT_EQ(Status(own), "200");
}

TEST_F(HubSecurity, OversizedHeadersAndBodiesAreRefusedBeforeTheyAreBuffered) {
  RunResult header = Curl("oslo", "/v1/work", "-H 'X-Padding: " + std::string(9000, 'a') + "'");
  EXPECT_EQ(Status(header), "431") << header.out << header.err;
  std::string body = rig_.Path("big.json").string();
  Shell("head -c 100000 /dev/zero | tr '\\0' a > " + body);
  RunResult post = Curl("oslo", "/v1/transfers/" + std::to_string(bergen_id_) + "/ack",
                        "-X POST -H 'Content-Type: application/json' --data-binary @" + body);
  EXPECT_EQ(Status(post), "413") << post.out << post.err;
  ExpectStateUnchanged();
}

TEST_F(HubSecurity, AnotherProtocolVersionIsAClearErrorAtTheFirstRequest) {
  std::string pki = rig_.Path("pki").string();
  RunResult r = RunCommand("curl -sS --max-time 20 -w '\\n%{http_code}' --cacert " + pki + "/ca.pem --cert " + pki +
                           "/oslo.pem --key " + pki + "/oslo.key -H 'Outpost-Protocol: 2' https://127.0.0.1:" +
                           std::to_string(rig_.hub_port()) + "/v1/work");
  EXPECT_EQ(Status(r), "400");
  EXPECT_NE(r.out.find("this hub speaks 1"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace outpost::testing
