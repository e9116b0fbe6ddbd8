// Compares NewGoEncoder's output with Go's own compress/flate (tests/oracles/goflate, built by
// CMake with Debian's golang-go) byte for byte, for every level and many kinds of input.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "common/file.h"
#include "common/io.h"
#include "deflate/go_flate.h"
#include "deflate/test_inputs.h"

namespace outpost::deflate {
namespace {

namespace fs = std::filesystem;
using testing::Binaries;
using testing::DocTar;
using testing::EnglishText;
using testing::LayerMix;
using testing::RandomBytes;
using testing::TinyRecords;
using testing::ZeroRuns;

const int kAllLevels[] = {-2, -1, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9};

void WriteFile(const fs::path& path, const std::string& data) {
  std::ofstream out(path, std::ios::binary);
  out.write(data.data(), static_cast<std::streamsize>(data.size()));
  ASSERT_TRUE(out.good()) << path;
}

std::string SlurpFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// Runs the Go oracle on `input`: goflate -level L <args>.
std::string GoCompress(const std::string& input, int level, const std::string& args = "") {
  const fs::path oracle = GOFLATE_ORACLE;
  if (!fs::exists(oracle)) {
    ADD_FAILURE() << "Go oracle " << oracle << " was not built (is golang-go installed?)";
    return "";
  }
  TempDir dir;
  WriteFile(dir.path() / "in", input);
  std::string cmd = oracle.string() + " -level " + std::to_string(level) + " " + args + " < " +
                    (dir.path() / "in").string() + " > " + (dir.path() / "out").string();
  EXPECT_EQ(std::system(cmd.c_str()), 0) << cmd;
  return SlurpFile(dir.path() / "out");
}

// Compresses with our encoder, writing in pieces of the given sizes (the rest in one piece)
// and flushing after every `flush_every` bytes if non-zero.
std::string OurCompress(const std::string& input, int level, const std::vector<size_t>& pieces = {},
                        size_t flush_every = 0) {
  StringWriter out;
  auto enc = NewGoEncoder(level, out);
  const auto* p = reinterpret_cast<const uint8_t*>(input.data());
  size_t pos = 0, since_flush = 0;
  auto write = [&](size_t n) {
    while (n > 0) {
      size_t k = n;
      if (flush_every > 0) k = std::min(k, flush_every - since_flush);
      enc->Write(p + pos, k);
      pos += k;
      n -= k;
      since_flush += k;
      if (flush_every > 0 && since_flush == flush_every) {
        enc->SyncFlush();
        since_flush = 0;
      }
    }
  };
  for (size_t n : pieces) write(std::min(n, input.size() - pos));
  write(input.size() - pos);
  enc->Finish();
  return out.str();
}

// Describes where two outputs first differ, for failure messages.
std::string Diff(const std::string& ours, const std::string& go) {
  size_t i = 0;
  while (i < ours.size() && i < go.size() && ours[i] == go[i]) ++i;
  if (i == ours.size() && i == go.size()) return "identical";
  return "first difference at byte " + std::to_string(i) + " of " + std::to_string(go.size()) +
         " (ours: " + std::to_string(ours.size()) + " bytes)";
}

void ExpectExactAllLevels(const std::string& input) {
  for (int level : kAllLevels) {
    std::string go = GoCompress(input, level);
    std::string ours = OurCompress(input, level);
    EXPECT_TRUE(ours == go) << "level " << level << ", " << input.size()
                            << " input bytes: " << Diff(ours, go);
  }
}

TEST(GoFlateOracle, EmptyInputIsExactAtEveryLevel) { ExpectExactAllLevels(""); }

TEST(GoFlateOracle, OneByteIsExactAtEveryLevel) { ExpectExactAllLevels("x"); }

TEST(GoFlateOracle, EnglishTextIsExactAtEveryLevel) {
  ExpectExactAllLevels(EnglishText(3 << 20, 1));
}

TEST(GoFlateOracle, ElfBinariesAreExactAtEveryLevel) { ExpectExactAllLevels(Binaries(4 << 20)); }

TEST(GoFlateOracle, RandomBytesAreExactAtEveryLevel) {
  ExpectExactAllLevels(RandomBytes(1 << 20, 2));
}

TEST(GoFlateOracle, ZeroRunsAreExactAtEveryLevel) { ExpectExactAllLevels(ZeroRuns(3 << 20, 3)); }

TEST(GoFlateOracle, TinyRecordsAreExactAtEveryLevel) {
  ExpectExactAllLevels(TinyRecords(2 << 20, 4));
}

TEST(GoFlateOracle, DocTarIsExactAtEveryLevel) { ExpectExactAllLevels(DocTar(4 << 20)); }

TEST(GoFlateOracle, LayerMixIsExactAtEveryLevel) { ExpectExactAllLevels(LayerMix(6 << 20, 5)); }

TEST(GoFlateOracle, SizesAroundBlockAndWindowBoundariesAreExact) {
  std::string text = EnglishText(200000, 6) + RandomBytes(70000, 7);
  for (size_t n : {2, 3, 4, 15, 16, 17, 127, 128, 129, 258, 262, 263, 32767, 32768, 32769, 65273,
                   65274, 65275, 65535, 65536, 65537, 131070, 131072, 196608, 270000}) {
    SCOPED_TRACE("size " + std::to_string(n));
    ExpectExactAllLevels(text.substr(text.size() - n));
  }
}

TEST(GoFlateOracle, WritesSplitAtRandomPointsGiveGosOutput) {
  std::string input = LayerMix(3 << 20, 8);
  std::mt19937_64 rng(9);
  std::vector<size_t> pieces;
  for (size_t total = 0; total < input.size();) {
    size_t n = rng() % 3 == 0 ? rng() % 16 : rng() % 100000;
    pieces.push_back(n);
    total += n;
  }
  for (int level : kAllLevels) {
    std::string go = GoCompress(input, level);
    std::string ours = OurCompress(input, level, pieces);
    EXPECT_TRUE(ours == go) << "level " << level << ": " << Diff(ours, go);
  }
}

// Go slides its window when a Write finds the position past 65274. If a Write ends so that the
// position stops exactly there, the next match search already runs in the slid window and cannot
// reach bytes 32507..32768 back; with one big Write it can. Go's output then depends on the
// split, and ours must follow it.
TEST(GoFlateOracle, WriteSplitAtTheSlidePointChangesGosOutputAndOurs) {
  std::string input = RandomBytes(200000, 12);
  input.replace(65274, 50, input.substr(32600, 50));
  std::string go_whole = GoCompress(input, 6);
  std::string go_split = GoCompress(input, 6, "-chunk 65535");
  EXPECT_NE(go_whole, go_split);
  EXPECT_TRUE(OurCompress(input, 6) == go_whole) << Diff(OurCompress(input, 6), go_whole);
  std::vector<size_t> pieces(3, 65535);
  EXPECT_TRUE(OurCompress(input, 6, pieces) == go_split)
      << Diff(OurCompress(input, 6, pieces), go_split);
}

TEST(GoFlateOracle, SyncFlushesMatchGosFlush) {
  std::string input = LayerMix(2 << 20, 10);
  for (size_t every : {100, 5000, 70000, 300001}) {
    for (int level : kAllLevels) {
      std::string go = GoCompress(input, level, "-flush " + std::to_string(every));
      std::string ours = OurCompress(input, level, {}, every);
      EXPECT_TRUE(ours == go) << "level " << level << ", flush every " << every << ": "
                              << Diff(ours, go);
    }
  }
}

TEST(GoFlateOracle, HundredMegabyteLayerIsExactAtLevels6And1) {
  std::string input = LayerMix(100 << 20, 11);
  for (int level : {6, 1}) {
    std::string go = GoCompress(input, level);
    std::string ours = OurCompress(input, level);
    EXPECT_TRUE(ours == go) << "level " << level << ": " << Diff(ours, go);
  }
}

}  // namespace
}  // namespace outpost::deflate
