#include "common/file.h"

#include <gtest/gtest.h>

#include "common/error.h"
#include "tests/support/matchers.h"

namespace outpost {
namespace {

using outpost::testing::ThrowsKind;

TEST(AtomicFile, NothingAppearsUntilCommit) {
  TempDir dir;
  fs::path target = dir.path() / "blob";
  {
    AtomicFile f(target);
    f.Write(std::string_view("half"));
    EXPECT_FALSE(fs::exists(target));
  }
  EXPECT_FALSE(fs::exists(target));
  EXPECT_TRUE(fs::is_empty(dir.path())) << "the temp file must be removed on abandon";
}

TEST(AtomicFile, CommitReplacesTheTargetWhole) {
  TempDir dir;
  fs::path target = dir.path() / "index.json";
  WriteFileAtomic(target, "old");
  WriteFileAtomic(target, "new contents");
  EXPECT_EQ(ReadFileToString(target), "new contents");
}

TEST(AtomicFile, AMissingFolderIsNotFoundAndNamedNotTheTemporaryFile) {
  TempDir dir;
  fs::path target = dir.path() / "missing" / "report";
  try {
    WriteFileAtomic(target, "x");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), Error::Kind::kNotFound);
    EXPECT_EQ(std::string(e.what()), "cannot write " + target.string() + ": the folder " +
                                         (dir.path() / "missing").string() + " does not exist (create it first)");
  }
}

TEST(FileReader, MissingFileIsNotFoundAndNamesThePath) {
  try {
    FileReader r("/nonexistent/outpost/file");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), Error::Kind::kNotFound);
    EXPECT_NE(std::string(e.what()).find("/nonexistent/outpost/file"), std::string::npos);
  }
}

TEST(RandomAccessFile, ReadPastTheEndIsCorruption) {
  TempDir dir;
  WriteFileAtomic(dir.path() / "f", "0123456789");
  RandomAccessFile f(dir.path() / "f");
  uint8_t buf[4];
  f.ReadAt(6, buf, 4);
  EXPECT_EQ(std::string(reinterpret_cast<char*>(buf), 4), "6789");
  EXPECT_THAT([&] { f.ReadAt(8, buf, 4); }, ThrowsKind(Error::Kind::kCorruption));
}

TEST(FileSize, MissingFileIsNotFoundAndADirectoryIsIOErrorNotFilesystemError) {
  TempDir dir;
  WriteFileAtomic(dir.path() / "f", "0123456789");
  EXPECT_EQ(FileSize(dir.path() / "f"), 10u);
  EXPECT_THAT([&] { FileSize(dir.path() / "missing"); },
              testing::ThrowsKind(Error::Kind::kNotFound, ::testing::HasSubstr("missing")));
  EXPECT_THAT([&] { FileSize(dir.path()); }, testing::ThrowsKind(Error::Kind::kIO));
}

}  // namespace
}  // namespace outpost
