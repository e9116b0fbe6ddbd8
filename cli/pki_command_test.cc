// `outpost pki`: the CA and certificates as an operator makes them, checked with openssl(1).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/file.h"
#include "tests/support/command.h"

namespace outpost::cli {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using testing::RunCommand;
using testing::RunResult;

RunResult Outpost(const std::string& args) { return RunCommand(testing::OutpostBinary() + " " + args); }

TEST(PkiCommand, InitThenIssueMakesACertificateOpensslVerifies) {
  TempDir dir;
  std::string pki = (dir.path() / "pki").string();
  ASSERT_EQ(Outpost("pki init " + pki).exit_code, 0);
  RunResult issue = Outpost("pki issue " + pki + " hub --host hub.example.org --host 10.0.0.5 --days 30");
  ASSERT_EQ(issue.exit_code, 0) << issue.err;
  EXPECT_THAT(issue.out, HasSubstr("hub.pem"));
  RunResult verify = RunCommand("openssl verify -CAfile " + pki + "/ca.pem -purpose sslserver " + pki + "/hub.pem");
  EXPECT_EQ(verify.exit_code, 0) << verify.out << verify.err;
  RunResult text = RunCommand("openssl x509 -noout -ext subjectAltName -in " + pki + "/hub.pem");
  EXPECT_THAT(text.out, HasSubstr("DNS:hub.example.org, IP Address:10.0.0.5"));
  EXPECT_THAT(issue.out, Not(HasSubstr("no --host")));
}

TEST(PkiCommand, IssueWithoutAHostSaysTheCertificateCannotServeAsTheHubs) {
  TempDir dir;
  std::string pki = (dir.path() / "pki").string();
  ASSERT_EQ(Outpost("pki init " + pki).exit_code, 0);
  RunResult issue = Outpost("pki issue " + pki + " oslo");
  ASSERT_EQ(issue.exit_code, 0) << issue.err;
  EXPECT_THAT(issue.out, HasSubstr("no --host: fit for a site's agent"));
}

TEST(PkiCommand, InitRefusesAnExistingCaWithExitCode2) {
  TempDir dir;
  ASSERT_EQ(Outpost("pki init " + dir.path().string()).exit_code, 0);
  RunResult again = Outpost("pki init " + dir.path().string());
  EXPECT_EQ(again.exit_code, 2);
  EXPECT_THAT(again.err, HasSubstr("refusing to overwrite"));
}

TEST(PkiCommand, IssueWithoutACaExitsNotFound) {
  TempDir dir;
  RunResult issue = Outpost("pki issue " + dir.path().string() + " oslo");
  EXPECT_EQ(issue.exit_code, 3);
  EXPECT_THAT(issue.err, HasSubstr("outpost pki init"));
}

}  // namespace
}  // namespace outpost::cli
