// Oracle tests: the GNU gzip encoder against the real `gzip` (Debian 12: gzip 1.12), comparing
// whole .gz files byte for byte, plus Debian's own `gzip -9n` changelogs and man pages found on
// this machine, which must rebuild exactly from their decompressed text.
#include <zlib.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <vector>

#include "common/file.h"
#include "deflate/gnu_gzip.h"
#include "deflate/oracle_harness.h"
#include "deflate/test_inputs.h"

namespace outpost::deflate {
namespace {

namespace fs = std::filesystem;

std::string ReadFile(const fs::path& path) { return ReadFileToString(path, size_t(1) << 30); }

GnuGzipHeader Header(int level) {
  GnuGzipHeader h;
  h.level = level;
  return h;
}

std::string Ours(const std::string& data, const GnuGzipHeader& header) {
  StringReader in(data);
  StringWriter out;
  GnuGzipCompress(in, header, out);
  return out.str();
}

// What `gzip -c -n -L` writes for `data` (read from a regular file, as gzip does for Debian's
// packaging).
std::string RealGzip(const std::string& data, int level) {
  return testing::RunOracle("gzip", "-c -n -" + std::to_string(level), data);
}

void ExpectSameAsGzip(const std::string& data, int level, const std::string& what) {
  std::string theirs = RealGzip(data, level);
  std::string ours = Ours(data, Header(level));
  EXPECT_TRUE(ours == theirs) << what << " at -" << level << ": " << testing::Diff(ours, theirs);
}

void ExpectEveryLevelSameAsGzip(const std::string& data, const std::string& what) {
  for (int level = 1; level <= 9; ++level) ExpectSameAsGzip(data, level, what);
}

TEST(GnuGzipOracle, EmptyAndOneByteInputsMatchAtEveryLevel) {
  ExpectEveryLevelSameAsGzip("", "empty input");
  ExpectEveryLevelSameAsGzip("x", "one byte");
  ExpectEveryLevelSameAsGzip("ab", "two bytes");
}

TEST(GnuGzipOracle, EnglishTextMatchesAtEveryLevel) {
  ExpectEveryLevelSameAsGzip(testing::EnglishText(300000, 1), "text");
}

TEST(GnuGzipOracle, SizesAroundWindowBoundariesMatch) {
  // The window is 64 KiB read in 32 KiB halves; lookahead keeps 262 bytes in reserve.
  for (size_t size : {32767u, 32768u, 32769u, 65274u, 65535u, 65536u, 65537u, 65798u, 98304u,
                      131073u}) {
    for (int level : {1, 3, 4, 6, 9}) {
      ExpectSameAsGzip(testing::EnglishText(size, size), level, "text " + std::to_string(size));
      ExpectSameAsGzip(testing::RandomBytes(size, size), level, "random " + std::to_string(size));
    }
  }
}

TEST(GnuGzipOracle, RandomBytesAndZeroRunsMatchAtEveryLevel) {
  ExpectEveryLevelSameAsGzip(testing::RandomBytes(1 << 20, 5), "random");
  ExpectEveryLevelSameAsGzip(std::string(3 << 20, '\0'), "zeros");
}

TEST(GnuGzipOracle, MixedContentMatchesAtEveryLevel) {
  ExpectEveryLevelSameAsGzip(testing::MixedBytes(4 << 20, 9), "mixed");
}

TEST(GnuGzipOracle, NameAndTimeMatchGzipWithoutNoName) {
  TempDir dir;
  fs::path file = dir.path() / "notes.txt";
  std::string data = testing::EnglishText(70000, 4);
  WriteFileAtomic(file, data);
  constexpr uint32_t kMtime = 1700000000;
  std::string cmd = "touch -d @" + std::to_string(kMtime) + " '" + file.string() + "'";
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  for (int level : {1, 6, 9}) {
    fs::path out = dir.path() / "out.gz";
    cmd = "gzip -c -" + std::to_string(level) + " '" + file.string() + "' > '" + out.string() + "'";
    ASSERT_EQ(std::system(cmd.c_str()), 0);
    GnuGzipHeader header = Header(level);
    header.mtime = kMtime;
    header.name = "notes.txt";
    EXPECT_TRUE(Ours(data, header) == ReadFile(out)) << "level " << level;
  }
}

// The first 4 MiB of the regular files in /usr/bin, in name order.
std::string ElfBytes() {
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator("/usr/bin")) {
    if (e.is_regular_file() && !e.is_symlink()) files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  std::string out;
  for (const auto& f : files) {
    if (out.size() >= (4u << 20)) break;
    out += ReadFile(f).substr(0, 1 << 20);
  }
  out.resize(std::min(out.size(), size_t(4) << 20));
  return out;
}

TEST(GnuGzipOracle, ElfBinariesMatchAtEveryLevel) {
  ExpectEveryLevelSameAsGzip(ElfBytes(), "/usr/bin ELF");
}

TEST(GnuGzipOracle, ThirtyMegabytesMatchAtLevelsSixAndNine) {
  std::string data = testing::MixedBytes(30 << 20, 30);
  ExpectSameAsGzip(data, 6, "30 MB mixed");
  ExpectSameAsGzip(data, 9, "30 MB mixed");
}

// A single-member .gz split into the header fields GNU gzip writes and its decompressed body.
struct ParsedGzip {
  GnuGzipHeader header;
  std::vector<int> levels;  // the levels the XFL byte allows
  std::string body;
};

std::optional<ParsedGzip> ParseGzip(const std::string& gz) {
  if (gz.size() < 18 || uint8_t(gz[0]) != 0x1f || uint8_t(gz[1]) != 0x8b || gz[2] != 8) {
    return std::nullopt;
  }
  uint8_t flags = uint8_t(gz[3]);
  if ((flags & ~0x08) != 0 || gz[9] != 3) return std::nullopt;  // only FNAME, OS Unix
  ParsedGzip p;
  for (int i = 0; i < 4; ++i) p.header.mtime |= uint32_t(uint8_t(gz[4 + i])) << (8 * i);
  uint8_t xfl = uint8_t(gz[8]);
  p.levels = xfl == 2 ? std::vector<int>{9} : xfl == 4 ? std::vector<int>{1}
                      : std::vector<int>{6, 2, 3, 4, 5, 7, 8};
  size_t pos = 10;
  if (flags & 0x08) {
    size_t end = gz.find('\0', pos);
    if (end == std::string::npos) return std::nullopt;
    p.header.name = gz.substr(pos, end - pos);
    pos = end + 1;
  }
  z_stream zs{};
  if (inflateInit2(&zs, -MAX_WBITS) != Z_OK) return std::nullopt;
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(gz.data() + pos));
  zs.avail_in = uInt(gz.size() - pos);
  int rc = Z_OK;
  while (rc == Z_OK) {
    char buf[65536];
    zs.next_out = reinterpret_cast<Bytef*>(buf);
    zs.avail_out = sizeof buf;
    rc = inflate(&zs, Z_NO_FLUSH);
    p.body.append(buf, sizeof buf - zs.avail_out);
  }
  size_t rest = zs.avail_in;
  inflateEnd(&zs);
  if (rc != Z_STREAM_END || rest != 8) return std::nullopt;  // not exactly one member
  return p;
}

bool RebuildsExactly(const std::string& gz) {
  std::optional<ParsedGzip> p = ParseGzip(gz);
  if (!p) return false;
  for (int level : p->levels) {
    p->header.level = level;
    if (Ours(p->body, p->header) == gz) return true;
  }
  return false;
}

// Rebuilds each of `files` from its decompressed body, prints the count (and the first misses)
// and returns {exact, total}.
std::pair<int, int> RebuildAll(const std::vector<fs::path>& files, const std::string& what) {
  int exact = 0;
  int total = 0;
  std::vector<std::string> misses;
  for (const auto& f : files) {
    ++total;
    if (RebuildsExactly(ReadFile(f))) {
      ++exact;
    } else if (misses.size() < 20) {
      misses.push_back(f.string());
    }
  }
  std::cout << what << ": " << exact << " of " << total << " rebuild exactly\n";
  for (const auto& m : misses) std::cout << "  not exact: " << m << "\n";
  return {exact, total};
}

// Regular files (not symlinks) under `root`, at most `depth` directories down, whose name ends in
// `suffix`, sorted.
std::vector<fs::path> FilesNamed(const fs::path& root, const std::string& suffix, int depth) {
  std::vector<fs::path> out;
  if (!fs::exists(root)) return out;
  for (auto it = fs::recursive_directory_iterator(root); it != fs::end(it); ++it) {
    if (it.depth() >= depth) it.disable_recursion_pending();
    const std::string name = it->path().filename().string();
    if (it->is_regular_file() && !it->is_symlink() && name.size() >= suffix.size() &&
        name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0) {
      out.push_back(it->path());
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

TEST(GnuGzipOracle, DebianChangelogsRebuildExactly) {
  auto files = FilesNamed("/usr/share/doc", "changelog.Debian.gz", 1);
  if (files.empty()) GTEST_SKIP() << "no /usr/share/doc/*/changelog.Debian.gz here";
  auto [exact, total] = RebuildAll(files, "changelog.Debian.gz");
  // Debian makes them with `gzip -9n`; a few packages ship files another tool compressed.
  EXPECT_GE(exact * 100, total * 95);
}

TEST(GnuGzipOracle, ManPagesRebuildExactly) {
  auto files = FilesNamed("/usr/share/man/man1", ".gz", 0);
  if (files.empty()) GTEST_SKIP() << "no /usr/share/man/man1/*.gz here";
  auto [exact, total] = RebuildAll(files, "man1 pages");
  EXPECT_GE(exact * 100, total * 95);
}

}  // namespace
}  // namespace outpost::deflate
