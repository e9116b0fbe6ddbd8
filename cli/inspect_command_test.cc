// Bad input through the `outpost` binary: one clear line naming the file and what is wrong, a
// non-zero exit code, and no partial output left behind.
#include <gtest/gtest.h>

#include "common/digest.h"
#include "common/file.h"
#include "storage/oci_layout_store.h"
#include "tests/support/command.h"
#include "tests/support/images.h"

namespace outpost::cli {
namespace {

using testing::OutpostBinary;
using testing::RunCommand;
using testing::RunResult;

class InspectCommandTest : public ::testing::Test {
 protected:
  void SetUp() override {
    img_ = testing::MakeImage(2);
    testing::WriteImage(*storage::OpenOciLayoutForWrite(Path("layout")), img_, "v1");
  }

  std::string Path(const std::string& name) const { return (tmp_.path() / name).string(); }

  RunResult Outpost(const std::string& args) { return RunCommand("timeout 60 " + OutpostBinary() + " " + args); }

  // The command failed with `code` and every stderr line is an outpost message naming `file`.
  void ExpectOneLineErrors(const RunResult& r, int code, const std::string& file) {
    EXPECT_EQ(r.exit_code, code) << r.err;
    ASSERT_FALSE(r.err.empty());
    size_t start = 0;
    while (start < r.err.size()) {
      size_t end = r.err.find('\n', start);
      std::string line = r.err.substr(start, end - start);
      EXPECT_TRUE(line.starts_with("outpost: ")) << line;
      EXPECT_NE(line.find(file), std::string::npos) << line;
      start = end + 1;
    }
  }

  TempDir tmp_;
  testing::TestImage img_;
};

TEST_F(InspectCommandTest, GoodImagePrintsItsDigests) {
  RunResult r = Outpost("inspect oci:" + Path("layout") + ":v1");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find(img_.manifest.digest.str()), std::string::npos);
  EXPECT_NE(r.out.find("MTIME"), std::string::npos);
}

TEST_F(InspectCommandTest, EditedLayerIsOneLineNamingFileAndBothDigests) {
  fs::path blob = tmp_.path() / "layout/blobs/sha256" / Digest::Of(img_.layers[1]).hex();
  WriteFileAtomic(blob, "edited");
  RunResult r = Outpost("inspect --json oci:" + Path("layout") + ":v1");
  ExpectOneLineErrors(r, 4, Path("layout"));
  EXPECT_NE(r.err.find(blob.string() + ": digest is " + Digest::Of("edited").str()), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("expected " + Digest::Of(img_.layers[1]).str()), std::string::npos) << r.err;
}

TEST_F(InspectCommandTest, TruncatedArchiveIsCorruption) {
  std::string tar = testing::MakeTar({{"manifest.json", std::string(2000, ' ')}});
  WriteFileAtomic(Path("t.tar"), tar.substr(0, 1100));
  ExpectOneLineErrors(Outpost("inspect docker-archive:" + Path("t.tar")), 4, Path("t.tar"));
}

TEST_F(InspectCommandTest, MalformedManifestJsonIsCorruption) {
  WriteFileAtomic(Path("m.tar"), testing::MakeTar({{"manifest.json", "[{"}}));
  ExpectOneLineErrors(Outpost("inspect docker-archive:" + Path("m.tar")), 4, Path("m.tar") + ":manifest.json");
}

TEST_F(InspectCommandTest, DotDotAndAbsoluteMembersAreRefused) {
  WriteFileAtomic(Path("up.tar"), testing::TarWithRawName("../x", "x"));
  ExpectOneLineErrors(Outpost("inspect docker-archive:" + Path("up.tar")), 8, Path("up.tar"));
  WriteFileAtomic(Path("abs.tar"), testing::TarWithRawName("/x", "x"));
  ExpectOneLineErrors(Outpost("inspect docker-archive:" + Path("abs.tar")), 8, Path("abs.tar"));
}

TEST_F(InspectCommandTest, UnknownMediaTypeIsUnsupported) {
  std::string index = ReadFileToString(Path("layout") + "/index.json");
  index.replace(index.find("application/vnd.oci.image.manifest.v1+json"), 42, "application/x-unknown-manifest+json");
  WriteFileAtomic(Path("layout") + "/index.json", index);
  ExpectOneLineErrors(Outpost("inspect oci:" + Path("layout") + ":v1"), 5, Path("layout"));
}

TEST_F(InspectCommandTest, SymlinkOutOfTheLayoutIsRefused) {
  fs::path blob = tmp_.path() / "layout/blobs/sha256" / Digest::Of(img_.config).hex();
  fs::rename(blob, Path("outside"));
  fs::create_symlink(Path("outside"), blob);
  RunResult r = Outpost("inspect oci:" + Path("layout") + ":v1");
  EXPECT_EQ(r.exit_code, 4);
  EXPECT_NE(r.err.find(blob.string() + ": symlink points outside the layout"), std::string::npos) << r.err;
}

TEST_F(InspectCommandTest, FailedCopyLeavesNoPartialOutput) {
  fs::path blob = tmp_.path() / "layout/blobs/sha256" / Digest::Of(img_.layers[1]).hex();
  WriteFileAtomic(blob, "edited");
  ExpectOneLineErrors(Outpost("copy -q oci:" + Path("layout") + ":v1 docker-archive:" + Path("out.tar")), 4, blob.string());
  ExpectOneLineErrors(Outpost("copy -q oci:" + Path("layout") + ":v1 oci:" + Path("new")), 4, blob.string());
  EXPECT_FALSE(fs::exists(Path("out.tar")));
  EXPECT_FALSE(fs::exists(Path("new")));
  for (const auto& e : fs::directory_iterator(tmp_.path())) EXPECT_FALSE(e.path().filename().string().starts_with(".")) << e.path();
}

}  // namespace
}  // namespace outpost::cli
