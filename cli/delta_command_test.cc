// `outpost diff`, `inspect BUNDLE` and `apply` through the binary, judged by skopeo, and their
// progress: a line on a terminal, nothing in scripts.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "common/digest.h"
#include "common/file.h"
#include "sync/test_images.h"
#include "tar/hostile_tar.h"
#include "tests/support/bytes.h"
#include "tests/support/command.h"

namespace outpost::cli {
namespace {

using Json = nlohmann::json;
using testing::OutpostBinary;
using testing::RunCommand;
using testing::RunResult;
using outpost::testing::Files;
using outpost::testing::RandomBytes;
using outpost::testing::WriteImage;

class DeltaCommandTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Files base = {{"bin/tool", RandomBytes(300000, 1)}};
    Files app_v1 = {{"app/lib.so", RandomBytes(400000, 2)}, {"app/notes.txt", std::string(20000, 'n')}};
    Files app_v2 = app_v1;
    app_v2["app/lib.so"].replace(5000, 8, "patched!");
    WriteImage("oci:" + Path("hub") + ":v1", {{base, true}, {app_v1, true}});
    source_ = WriteImage("oci:" + Path("hub") + ":v2", {{base, true}, {app_v2, true}});
    WriteImage("oci:" + Path("site") + ":v1", {{base, true}, {app_v1, true}});
  }

  std::string Path(const std::string& name) const { return (dir_.path() / name).string(); }

  std::string DiffCommand(const std::string& extra = "") const {
    return OutpostBinary() + " diff --no-cache --from oci:" + Path("hub") + ":v1 --to oci:" + Path("hub") +
           ":v2 -o " + Path("b.bundle") + " " + extra;
  }

  // Runs `command` with a pseudo-terminal as its stdin, stdout and stderr (util-linux script);
  // returns everything the terminal showed.
  static RunResult OnTerminal(const std::string& command) {
    return RunCommand("script -qec '" + command + "' /dev/null");
  }

  TempDir dir_;
  Digest source_;
};

TEST_F(DeltaCommandTest, DiffInspectApplyRebuildTheManifestSkopeoReadsAtTheSourceDigest) {
  RunResult key = RunCommand(OutpostBinary() + " keygen -o " + Path("hub.key"));
  ASSERT_EQ(key.exit_code, 0) << key.err;
  RunResult diff = RunCommand(DiffCommand("--sign-key " + Path("hub.key")));
  ASSERT_EQ(diff.exit_code, 0) << diff.err;
  EXPECT_NE(diff.out.find("from a registry"), std::string::npos) << diff.out;
  RunResult inspect = RunCommand(OutpostBinary() + " inspect " + Path("b.bundle"));
  ASSERT_EQ(inspect.exit_code, 0) << inspect.err;
  EXPECT_NE(inspect.out.find(source_.str()), std::string::npos) << inspect.out;
  EXPECT_NE(inspect.out.find("tar-delta"), std::string::npos) << inspect.out;
  EXPECT_NE(inspect.out.find("present"), std::string::npos) << inspect.out;
  RunResult apply = RunCommand(OutpostBinary() + " apply " + Path("b.bundle") + " --base oci:" + Path("site") +
                               ":v1 --into oci:" + Path("site") + ":v2 --verify-key " + Path("hub.key.pub"));
  ASSERT_EQ(apply.exit_code, 0) << apply.err;
  RunResult raw = RunCommand("skopeo inspect --raw oci:" + Path("site") + ":v2");
  ASSERT_EQ(raw.exit_code, 0) << raw.err;
  EXPECT_EQ(Digest::Of(raw.out), source_);
}

TEST_F(DeltaCommandTest, ApplyIntoADockerArchiveNamesTheImageIdDockerLoadGivesIt) {
  ASSERT_EQ(RunCommand(DiffCommand()).exit_code, 0);
  std::string archive = "docker-archive:" + Path("site.tar") + ":app:v2";
  RunResult apply =
      RunCommand(OutpostBinary() + " apply " + Path("b.bundle") + " --base oci:" + Path("site") + ":v1 --into " + archive);
  ASSERT_EQ(apply.exit_code, 0) << apply.err;
  RunResult raw = RunCommand("skopeo inspect --raw " + archive);
  ASSERT_EQ(raw.exit_code, 0) << raw.err;
  std::string config = Json::parse(raw.out)["config"]["digest"];
  EXPECT_EQ(apply.out, archive + " image ID " + config + " (as docker load shows it)\n");
}

TEST_F(DeltaCommandTest, SignedDiffRefusesALayerWithAnEntryHiddenBehindAPaxSizeOfZero) {
  outpost::testing::TestLayer evil;
  evil.gzip = false;
  evil.raw_tar = tar::testing::HiddenBehindPaxSizeZero("../../../../tmp/x", "owned\n");
  WriteImage("oci:" + Path("hub") + ":v2", {{{{"bin/tool", RandomBytes(300000, 1)}}, true}, evil});
  ASSERT_EQ(RunCommand(OutpostBinary() + " keygen -o " + Path("hub.key")).exit_code, 0);
  RunResult diff = RunCommand(DiffCommand("--sign-key " + Path("hub.key")));
  EXPECT_EQ(diff.exit_code, 8) << diff.err;
  EXPECT_NE(diff.err.find("../../../../tmp/x"), std::string::npos) << diff.err;
  EXPECT_FALSE(std::filesystem::exists(Path("b.bundle")));
}

TEST_F(DeltaCommandTest, ProgressShowsOnATerminalWithBytesAndRate) {
  RunResult r = OnTerminal(DiffCommand());
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("\r\033[K"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("tar-delta"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("/s"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("from a registry"), std::string::npos) << r.out;
}

TEST_F(DeltaCommandTest, ScriptsAndQuietGetOnlyTheSummaryLine) {
  RunResult piped = RunCommand(DiffCommand());
  ASSERT_EQ(piped.exit_code, 0) << piped.err;
  EXPECT_EQ(piped.err.find('\r'), std::string::npos) << piped.err;
  RunResult quiet = OnTerminal(DiffCommand("--quiet"));
  ASSERT_EQ(quiet.exit_code, 0) << quiet.out;
  EXPECT_EQ(quiet.out.find('\r'), quiet.out.rfind("\r\n")) << quiet.out;  // only the tty's line end
  EXPECT_EQ(quiet.out.find("\033[K"), std::string::npos) << quiet.out;
  EXPECT_NE(quiet.out.find("from a registry"), std::string::npos) << quiet.out;
}

}  // namespace
}  // namespace outpost::cli
