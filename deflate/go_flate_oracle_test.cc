// Compares NewGoEncoder's output with Go's own compress/flate (tests/oracles/goflate, built by
// CMake with Debian's golang-go) byte for byte, for every level and many kinds of input.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "common/io.h"
#include "deflate/go_flate.h"
#include "deflate/oracle_harness.h"
#include "deflate/test_inputs.h"

namespace outpost::deflate {
namespace {

using testing::Binaries;
using testing::Diff;
using testing::DocTar;
using testing::EnglishText;
using testing::LayerMix;
using testing::RandomBytes;
using testing::TinyRecords;
using testing::ZeroRuns;

const auto& kAllLevels = testing::kGoLevels;

// Runs the Go oracle on `input`: goflate -level L <args>.
std::string GoCompress(const std::string& input, int level, const std::string& args = "") {
  return testing::RunOracle(GOFLATE_ORACLE, "-level " + std::to_string(level) + " " + args, input);
}

// Compresses with our encoder, writing in pieces of the given sizes (the rest in one piece)
// and flushing after every `flush_every` bytes if non-zero.
std::string OurCompress(const std::string& input, int level, const std::vector<size_t>& pieces = {},
                        size_t flush_every = 0) {
  StringWriter out;
  testing::FeedEncoder(*NewGoEncoder(level, out), input, pieces, flush_every);
  return out.str();
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
  std::vector<size_t> pieces = testing::RandomPieces(input.size(), 9);
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
