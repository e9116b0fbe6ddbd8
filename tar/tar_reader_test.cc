#include "tar/tar_reader.h"

#include <gtest/gtest.h>

#include <cstdlib>

#include "common/error.h"
#include "common/file.h"
#include "tests/support/matchers.h"

namespace outpost::tar {
namespace {

using outpost::testing::ThrowsKind;

// Builds a tar with GNU tar (long names, PAX headers) from files made in `dir`.
std::string MakeTar(const TempDir& dir, const std::string& format) {
  fs::path root = dir.path() / "root";
  fs::create_directories(root / "a/very" / std::string(95, 'd'));
  WriteFileAtomic(root / "a/hello.txt", "hello\n");
  WriteFileAtomic(root / "a/very" / std::string(95, 'd') / "long.bin", std::string(1000, 'z'));
  fs::create_symlink("hello.txt", root / "a/link");
  fs::path out = dir.path() / "out.tar";
  std::string cmd = "tar --sort=name --mtime=@0 --owner=0 --group=0 --format=" + format + " -cf " +
                    out.string() + " -C " + root.string() + " a";
  EXPECT_EQ(std::system(cmd.c_str()), 0);
  return ReadFileToString(out);
}

std::string Reassemble(Reader& r, std::vector<Entry>* entries) {
  std::string out;
  Entry e;
  while (r.Next(&e)) {
    out += e.raw_prefix;
    uint8_t buf[300];
    for (size_t n; (n = r.ReadData(buf, sizeof(buf))) > 0;) out.append(reinterpret_cast<char*>(buf), n);
    entries->push_back(e);
  }
  uint8_t buf[4096];
  for (size_t n; (n = r.ReadTrailer(buf, sizeof(buf))) > 0;) out.append(reinterpret_cast<char*>(buf), n);
  return out;
}

class TarFormats : public ::testing::TestWithParam<std::string> {};

TEST_P(TarFormats, PrefixesContentAndTrailerReassembleTheExactInput) {
  TempDir dir;
  std::string tar = MakeTar(dir, GetParam());
  StringReader in(tar);
  Reader r(in);
  std::vector<Entry> entries;
  EXPECT_EQ(Reassemble(r, &entries), tar);
  ASSERT_EQ(entries.size(), 6u);
  std::string long_path = "a/very/" + std::string(95, 'd') + "/long.bin";
  auto it = std::find_if(entries.begin(), entries.end(), [&](const Entry& e) { return e.name == long_path; });
  ASSERT_NE(it, entries.end()) << "long names must be resolved";
  EXPECT_EQ(it->size, 1000u);
  auto link = std::find_if(entries.begin(), entries.end(), [](const Entry& e) { return e.name == "a/link"; });
  ASSERT_NE(link, entries.end());
  EXPECT_EQ(link->type, kSymlink);
  EXPECT_EQ(link->linkname, "hello.txt");
}

INSTANTIATE_TEST_SUITE_P(GnuAndPax, TarFormats, ::testing::Values("gnu", "pax", "ustar"));

TEST(TarReader, TruncatedContentIsCorruption) {
  TempDir dir;
  std::string tar = MakeTar(dir, "gnu");
  StringReader in(tar.substr(0, 2100));
  Reader r(in);
  std::vector<Entry> entries;
  EXPECT_THAT([&] { Reassemble(r, &entries); }, ThrowsKind(Error::Kind::kCorruption));
}

TEST(TarReader, BadChecksumIsCorruptionNamingTheOffset) {
  TempDir dir;
  std::string tar = MakeTar(dir, "gnu");
  tar[0] ^= 1;
  StringReader in(tar);
  Reader r(in);
  Entry e;
  try {
    r.Next(&e);
    FAIL();
  } catch (const Error& err) {
    EXPECT_EQ(err.kind(), Error::Kind::kCorruption);
    EXPECT_NE(std::string(err.what()).find("offset 0"), std::string::npos);
  }
}

TEST(TarReader, IsSafePathRejectsEscapes) {
  EXPECT_TRUE(IsSafePath("a/b/c"));
  EXPECT_TRUE(IsSafePath("a/..b"));
  EXPECT_FALSE(IsSafePath("../x"));
  EXPECT_FALSE(IsSafePath("a/../../x"));
  EXPECT_FALSE(IsSafePath("/etc/passwd"));
  EXPECT_FALSE(IsSafePath(""));
}

}  // namespace
}  // namespace outpost::tar
