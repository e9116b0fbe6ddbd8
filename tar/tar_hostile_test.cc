// Hostile tars: the reader sees what GNU tar, Go and Python's tarfile see, or refuses.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>

#include "common/error.h"
#include "common/file.h"
#include "tar/hostile_tar.h"
#include "tar/tar_reader.h"
#include "tests/support/matchers.h"

namespace outpost::tar {
namespace {

using outpost::testing::ThrowsKind;
using ::testing::HasSubstr;
using namespace tar::testing;  // NOLINT: the block builders read as a grammar

// Every entry's name (as "type:name") through to the end of the trailer.
std::vector<std::string> Names(const std::string& tar) {
  StringReader in(tar);
  Reader r(in);
  std::vector<std::string> names;
  Entry e;
  while (r.Next(&e)) names.push_back(std::string(1, e.type == kRegularOld ? '0' : e.type) + ":" + e.name);
  uint8_t buf[4096];
  while (r.ReadTrailer(buf, sizeof(buf)) > 0) {
  }
  return names;
}

TEST(TarHostile, PaxSizeZeroAppliesSoTheHiddenEntryIsSeen) {
  std::string tar = HiddenBehindPaxSizeZero("../../../../tmp/x", "owned\n");
  EXPECT_THAT(Names(tar), ::testing::ElementsAre("0:cover", "0:../../../../tmp/x"));
}

TEST(TarHostile, PaxSizeOverridesTheUstarSizeEitherWay) {
  std::string tar = Pax({{"size", "700"}}) + Block({.name = "big", .size = 0}) + Padded(std::string(700, 'a')) +
                    File("next", "n") + End();
  EXPECT_THAT(Names(tar), ::testing::ElementsAre("0:big", "0:next"));
}

TEST(TarHostile, EmptyOrSignedPaxSizeIsCorruption) {
  for (std::string size : {"", "+5", "1_0", " 5"}) {
    std::string tar = Pax({{"size", size}}) + File("a", "") + End();
    EXPECT_THAT([&] { Names(tar); }, ThrowsKind(Error::Kind::kCorruption, HasSubstr("size"))) << size;
  }
}

TEST(TarHostile, EmptyPaxPathOrOneWithNulIsCorruption) {
  EXPECT_THAT([&] { Names(Pax({{"path", ""}}) + File("a", "") + End()); }, ThrowsKind(Error::Kind::kCorruption));
  EXPECT_THAT([&] { Names(Pax({{"path", std::string("a\0/../../x", 10)}}) + File("a", "") + End()); },
              ThrowsKind(Error::Kind::kCorruption));
}

TEST(TarHostile, TwoPaxHeadersOrLongNameBesidePaxPathIsCorruption) {
  std::string two = Pax({{"path", "a"}}) + Pax({{"path", "b"}}) + File("c", "") + End();
  std::string both = Extension('L', std::string("a") + '\0') + Pax({{"path", "b"}}) + File("c", "") + End();
  std::string two_long = Extension('L', "a") + Extension('L', "b") + File("c", "") + End();
  for (const std::string& tar : {two, both, two_long}) {
    EXPECT_THAT([&] { Names(tar); }, ThrowsKind(Error::Kind::kCorruption, HasSubstr("conflicting extension")));
  }
}

TEST(TarHostile, GlobalHeaderSettingPathOrSizeIsCorruption) {
  for (std::string key : {"path", "size", "linkpath"}) {
    std::string tar = Pax({{key, "1"}}, 'g') + File("a", "") + End();
    EXPECT_THAT([&] { Names(tar); }, ThrowsKind(Error::Kind::kCorruption, HasSubstr("global"))) << key;
  }
}

TEST(TarHostile, GlobalCommentIsReadIntoTheNextEntry) {
  std::string tar = Pax({{"comment", "0123abcd"}}, 'g') + File("a", "x") + End();
  EXPECT_THAT(Names(tar), ::testing::ElementsAre("0:a"));
}

TEST(TarHostile, GnuSparseIsUnsupported) {
  EXPECT_THAT([&] { Names(Pax({{"GNU.sparse.name", "../x"}}) + File("a", "") + End()); },
              ThrowsKind(Error::Kind::kUnsupported, HasSubstr("sparse")));
  EXPECT_THAT([&] { Names(Block({.name = "v", .type = 'V'}) + End()); }, ThrowsKind(Error::Kind::kUnsupported));
  EXPECT_THAT([&] { Names(Block({.name = "s", .type = 'S'}) + End()); }, ThrowsKind(Error::Kind::kUnsupported));
}

TEST(TarHostile, NumbersExtractorsReadDifferentlyAreCorruption) {
  std::string nul_first = std::string(4, '\0') + "0001000";
  std::string negative = "\xff" + std::string(11, '\xff');
  std::string odd_base256 = "\x81" + std::string(11, '\0');
  for (const std::string& field : {nul_first + '\0', negative, odd_base256, std::string(12, ' ')}) {
    std::string tar = Block({.name = "a", .size_field = field}) + End();
    EXPECT_THAT([&] { Names(tar); }, ThrowsKind(Error::Kind::kCorruption, HasSubstr("number")));
  }
}

TEST(TarHostile, Base256SizeIsRead) {
  std::string field = "\x80" + std::string(9, '\0') + "\x02\x00";
  std::string tar = Block({.name = "a", .size_field = field}) + Padded(std::string(512, 'a')) + End();
  EXPECT_THAT(Names(tar), ::testing::ElementsAre("0:a"));
}

TEST(TarHostile, PrefixOutsidePosixUstarIsCorruption) {
  std::string gnu = Block({.name = "x", .magic_version = std::string("ustar  \0", 8), .prefix = "../.."}) + End();
  std::string v7 = Block({.name = "x", .magic_version = std::string(8, '\0'), .prefix = "../.."}) + End();
  for (const std::string& tar : {gnu, v7}) {
    EXPECT_THAT([&] { Names(tar); }, ThrowsKind(Error::Kind::kCorruption, HasSubstr("prefix")));
  }
}

TEST(TarHostile, LinkOrDirectoryWithContentIsCorruption) {
  std::string dir = Block({.name = "d", .type = '5', .size = 512}) + File("../x", "") + End();
  std::string old_dir = Block({.name = "d/", .type = '\0', .size = 512}) + File("../x", "") + End();
  std::string link = Pax({{"size", "512"}}) + Block({.name = "l", .type = '2', .linkname = "t"}) + File("../x", "") + End();
  std::string renamed_old_dir = Pax({{"path", "f"}}) + Block({.name = "d/", .type = '\0', .size = 512}) + File("../x", "") + End();
  for (const std::string& tar : {dir, old_dir, link, renamed_old_dir}) {
    EXPECT_THAT([&] { Names(tar); }, ThrowsKind(Error::Kind::kCorruption, HasSubstr("content")));
  }
}

TEST(TarHostile, EntryAfterALoneZeroBlockIsCorruption) {
  std::string tar = File("a", "x") + std::string(512, '\0') + File("../../evil", "y") + End();
  EXPECT_THAT([&] { Names(tar); }, ThrowsKind(Error::Kind::kCorruption, HasSubstr("end-of-archive")));
}

TEST(TarHostile, ZeroRecordPaddingAfterTheEndIsFine) {
  EXPECT_THAT(Names(File("a", "x") + End() + std::string(8192, '\0')), ::testing::ElementsAre("0:a"));
}

TEST(TarHostile, HardLinkTargetOutsideTheRootIsUnsafe) {
  Entry e;
  e.name = "a";
  e.type = kHardLink;
  e.linkname = "../../etc/shadow";
  EXPECT_FALSE(IsSafeEntry(e));
  e.type = kSymlink;  // a symlink's target is resolved by whoever follows it, not by extraction
  EXPECT_TRUE(IsSafeEntry(e));
}

// The tars outpost accepts, listed by Python's tarfile: the same entries in the same order.
TEST(TarHostile, PythonTarfileSeesTheSameEntriesAsTheReader) {
  if (std::system("python3 -c 'import tarfile' 2>/dev/null") != 0) GTEST_SKIP() << "no python3";
  std::string long_name(150, 'n');
  std::vector<std::string> tars = {
      HiddenBehindPaxSizeZero("../../../../tmp/x", "owned\n"),
      Pax({{"size", "700"}}) + Block({.name = "big"}) + Padded(std::string(700, 'a')) + File("next", "n") + End(),
      Extension('L', long_name + '\0') + File("short", "c") + End(),
      Pax({{"path", long_name}, {"mtime", "1.5"}}) + File("short", "c") + End(),
      Block({.name = "leaf", .prefix = "some/dir"}) + End(),
      Pax({{"comment", "abc"}}, 'g') + File("a", "x") + End() + std::string(4096, '\0'),
      Block({.name = "d", .type = '5'}) + Block({.name = "d/l", .type = '1', .linkname = "d/f"}) +
          Block({.name = "s", .type = '2', .linkname = "../../anywhere"}) + End(),
      Block({.name = "a", .size_field = "\x80" + std::string(9, '\0') + "\x02\x00"}) +
          Padded(std::string(512, 'a')) + End(),
  };
  TempDir dir;
  std::string files, want;
  for (size_t i = 0; i < tars.size(); ++i) {
    fs::path file = dir.path() / ("t" + std::to_string(i) + ".tar");
    WriteFileAtomic(file, tars[i]);
    files += " " + file.string();
    want += "== " + file.string() + "\n";
    for (const std::string& n : Names(tars[i])) want += (n[0] == '5' && n.back() == '/' ? n.substr(0, n.size() - 1) : n) + "\n";
  }
  // One interpreter for all of them: starting Python is the slow part.
  std::string cmd = "python3 -c 'import sys, tarfile\n"
                    "for f in sys.argv[1:]:\n"
                    "  print(\"== \" + f)\n"
                    "  for m in tarfile.open(f): print(m.type.decode() + \":\" + m.name)'" +
                    files + " > " + (dir.path() / "out").string();
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  EXPECT_EQ(ReadFileToString(dir.path() / "out"), want);
}

}  // namespace
}  // namespace outpost::tar
