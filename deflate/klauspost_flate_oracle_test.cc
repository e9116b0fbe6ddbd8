// Compares NewKlauspostEncoder and WriteKlauspostPgzip with klauspost/compress v1.15.12 and
// klauspost/pgzip v1.2.5 themselves (tests/oracles/kpflate, built by CMake with Debian's
// golang-go and Go library packages) byte for byte; and rebuilds the pgzip layers of the real
// fixtures (OUTPOST_FIXTURES) from their inflated content.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "common/file.h"
#include "common/io.h"
#include "deflate/klauspost_flate.h"
#include "deflate/kp_pgzip.h"
#include "deflate/oracle_harness.h"
#include "deflate/test_inputs.h"
#include "tar/tar_reader.h"

namespace outpost::deflate {
namespace {

namespace fs = std::filesystem;
using testing::Binaries;
using testing::Diff;
using testing::DocTar;
using testing::EnglishText;
using testing::LayerMix;
using testing::RandomBytes;
using testing::TinyRecords;
using testing::ZeroRuns;

const auto& kAllLevels = testing::kGoLevels;

// Runs the oracle on `input`: kpflate <args>.
std::string Oracle(const std::string& input, const std::string& args) {
  return testing::RunOracle(KPFLATE_ORACLE, args, input);
}

std::string OracleFlate(const std::string& input, int level, const std::string& dict = "",
                        size_t flush_every = 0) {
  std::string args = "-level " + std::to_string(level);
  if (flush_every > 0) args += " -flush " + std::to_string(flush_every);
  if (dict.empty()) return Oracle(input, args);
  TempDir dir;
  WriteFileAtomic(dir.path() / "dict", dict);
  return Oracle(input, args + " -dict " + (dir.path() / "dict").string());
}

// Compresses with our encoder, writing in pieces of the given sizes (the rest in one piece)
// and flushing after every `flush_every` bytes if non-zero (and after the last stretch, as the
// oracle does).
std::string OurFlate(const std::string& input, int level, const std::string& dict = "",
                     size_t flush_every = 0, const std::vector<size_t>& pieces = {}) {
  StringWriter out;
  testing::FeedEncoder(*NewKlauspostEncoder(level, out, dict), input, pieces, flush_every, true);
  return out.str();
}

std::string OurPgzip(const std::string& input, int level, size_t block_size) {
  StringReader in(input);
  StringWriter out;
  WriteKlauspostPgzip(in, out, level, block_size);
  return out.str();
}

void ExpectExactAllLevels(const std::string& input, const std::string& dict = "") {
  for (int level : kAllLevels) {
    std::string theirs = OracleFlate(input, level, dict);
    std::string ours = OurFlate(input, level, dict);
    EXPECT_TRUE(ours == theirs) << "level " << level << ", " << input.size()
                                << " input bytes, dictionary " << dict.size() << ": "
                                << Diff(ours, theirs);
  }
}

TEST(KlauspostFlateOracle, EmptyInputIsExactAtEveryLevel) { ExpectExactAllLevels(""); }

TEST(KlauspostFlateOracle, OneByteIsExactAtEveryLevel) { ExpectExactAllLevels("x"); }

TEST(KlauspostFlateOracle, EnglishTextIsExactAtEveryLevel) {
  ExpectExactAllLevels(EnglishText(3 << 20, 1));
}

TEST(KlauspostFlateOracle, ElfBinariesAreExactAtEveryLevel) {
  ExpectExactAllLevels(Binaries(4 << 20));
}

TEST(KlauspostFlateOracle, RandomBytesAreExactAtEveryLevel) {
  ExpectExactAllLevels(RandomBytes(1 << 20, 2));
}

TEST(KlauspostFlateOracle, ZeroRunsAreExactAtEveryLevel) {
  ExpectExactAllLevels(ZeroRuns(3 << 20, 3));
}

TEST(KlauspostFlateOracle, TinyRecordsAreExactAtEveryLevel) {
  ExpectExactAllLevels(TinyRecords(2 << 20, 4));
}

TEST(KlauspostFlateOracle, DocTarIsExactAtEveryLevel) { ExpectExactAllLevels(DocTar(4 << 20)); }

TEST(KlauspostFlateOracle, LayerMixIsExactAtEveryLevel) {
  ExpectExactAllLevels(LayerMix(6 << 20, 5));
}

TEST(KlauspostFlateOracle, SizesAroundBlockAndWindowBoundariesAreExact) {
  std::string text = EnglishText(200000, 6) + RandomBytes(70000, 7);
  for (size_t n : {2, 12, 13, 14, 32, 33, 127, 128, 129, 258, 262, 263, 32767, 32768, 32769,
                   65273, 65274, 65275, 65535, 65536, 65537, 131070, 131072, 196608, 270000}) {
    SCOPED_TRACE("size " + std::to_string(n));
    ExpectExactAllLevels(text.substr(text.size() - n));
  }
}

TEST(KlauspostFlateOracle, DictionariesAreExactAtEveryLevel) {
  std::string input = LayerMix(1 << 20, 12);
  for (size_t dict_size : {1, 100, 16384, 32768, 40000}) {
    SCOPED_TRACE("dictionary " + std::to_string(dict_size));
    std::string dict = EnglishText(dict_size, 13);
    ExpectExactAllLevels(input, dict);
    ExpectExactAllLevels(input.substr(0, 5000), dict);
  }
}

TEST(KlauspostFlateOracle, WritesSplitAtRandomPointsGiveKlauspostsOutput) {
  std::string input = LayerMix(3 << 20, 8);
  std::vector<size_t> pieces = testing::RandomPieces(input.size(), 9);
  for (int level : kAllLevels) {
    std::string theirs = OracleFlate(input, level);
    std::string ours = OurFlate(input, level, "", 0, pieces);
    EXPECT_TRUE(ours == theirs) << "level " << level << ": " << Diff(ours, theirs);
  }
}

TEST(KlauspostFlateOracle, SyncFlushesMatchKlauspostsFlush) {
  std::string input = LayerMix(2 << 20, 10);
  for (size_t every : {30, 100, 5000, 65535, 70000, 300001}) {
    for (int level : kAllLevels) {
      std::string theirs = OracleFlate(input, level, "", every);
      std::string ours = OurFlate(input, level, "", every);
      EXPECT_TRUE(ours == theirs) << "level " << level << ", flush every " << every << ": "
                                  << Diff(ours, theirs);
    }
  }
}

TEST(KlauspostFlateOracle, FiftyMegabyteLayerIsExactAtLevel5) {
  std::string input = LayerMix(50 << 20, 11);
  std::string theirs = OracleFlate(input, 5);
  EXPECT_TRUE(OurFlate(input, 5) == theirs) << Diff(OurFlate(input, 5), theirs);
}

TEST(KlauspostPgzipOracle, MultiBlockFilesAreExact) {
  std::string input = LayerMix(5 << 20, 14);
  for (int level : {5, -1, 1, 6, 9}) {
    for (size_t block : {size_t{1} << 20, size_t{250000}, size_t{16385}}) {
      std::string theirs = Oracle(input, "-pgzip -level " + std::to_string(level) + " -block " +
                                             std::to_string(block));
      std::string ours = OurPgzip(input, level, block);
      EXPECT_TRUE(ours == theirs) << "level " << level << ", block " << block << ": "
                                  << Diff(ours, theirs);
    }
  }
}

TEST(KlauspostPgzipOracle, EmptyAndWholeBlockInputsAreExact) {
  std::string text = EnglishText(3 << 20, 15);
  for (size_t n : {size_t{0}, size_t{1}, size_t{16384}, size_t{16385}, size_t{1} << 20,
                   (size_t{1} << 20) + 1, size_t{2} << 20}) {
    std::string input = text.substr(0, n);
    std::string theirs = Oracle(input, "-pgzip -level 5");
    std::string ours = OurPgzip(input, 5, kPgzipDefaultBlockSize);
    EXPECT_TRUE(ours == theirs) << n << " bytes: " << Diff(ours, theirs);
  }
}

// --- Real pgzip layers from the fixtures ---

// The blob whose name contains `id`: a file in directory `where`, or a member of tar `where`.
std::string FindBlob(const fs::path& where, const std::string& id) {
  if (fs::is_directory(where)) {
    for (const auto& e : fs::directory_iterator(where)) {
      if (e.path().filename().string().find(id) != std::string::npos) {
        return ReadFileToString(e.path(), 256 << 20);
      }
    }
    return "";
  }
  FileReader file(where);
  tar::Reader tar(file);
  tar::Entry entry;
  while (tar.Next(&entry)) {
    if (entry.name.find(id) == std::string::npos) continue;
    std::string data(entry.size, '\0');
    size_t got = 0;
    while (got < data.size()) {
      size_t n = tar.ReadData(reinterpret_cast<uint8_t*>(data.data()) + got, data.size() - got);
      if (n == 0) break;
      got += n;
    }
    data.resize(got);
    return data;
  }
  return "";
}

struct FixtureLayer {
  const char* where;  // directory of blobs or tar file, relative to OUTPOST_FIXTURES
  const char* id;     // start of the blob's sha256
  bool exact;         // made by pgzip v1.2.5 + klauspost/compress 1.15.x (INDEX.md)
};

const FixtureLayer kFixtureLayers[] = {
    {"apko/internal/cli/testdata/base_image/blobs/sha256", "bf74ddaf55d3", true},
    {"apko/internal/cli/testdata/base_image/blobs/sha256", "583625b6164f", true},
    {"apko/internal/cli/testdata/top_image/blobs/sha256", "7bd766d91d36", true},
    {"apko/internal/cli/testdata/top_image/blobs/sha256", "ff58773a945b", true},
    {"apko/internal/cli/testdata/golden/blobs/sha256", "c7557730da0e", true},
    {"apko/internal/cli/testdata/golden/blobs/sha256", "7e0f9d62f6ca", true},
    {"snyk-docker-plugin/test/fixtures/pnpm/pnpmlockv9.tar", "ea9dcf8b3c4c", true},
    {"snyk-docker-plugin/test/fixtures/pnpm/pnpmlockv9.tar", "6c8286d24d13", true},
    {"snyk-docker-plugin/test/fixtures/pnpm/pnpmlockv9.tar", "1414984710f6", true},
    {"snyk-docker-plugin/test/fixtures/pnpm/pnpmlockv6.tar", "b9e809f09b26", true},
    {"stereoscope/pkg/image/oci/testdata/valid-oci.tar", "00ffd085e9e7", true},
    {"go-containerregistry/pkg/v1/mutate/testdata/whiteout_dir.tar", "e351ee8e5cab", true},
    {"go-containerregistry/pkg/v1/mutate/testdata/whiteout_dir.tar", "66386e0afc5a", true},
    {"go-containerregistry/pkg/v1/mutate/testdata/whiteout_dir.tar", "9d8bff046c70", true},
    {"go-containerregistry/pkg/v1/mutate/testdata/whiteout_dir.tar", "a09a7f2d8191", true},
    // Older klauspost/compress (1.4-1.9) under pgzip: not this encoder.
    {"snyk-docker-plugin/test/fixtures/docker-archives/skopeo-copy/node-removed.tar",
     "09f0368a9091", false},
    {"go-containerregistry/pkg/v1/layout/testdata/test_index_one_image/blobs/sha256",
     "492b89b9dd3c", false},
    {"trivy/pkg/fanal/test/testdata/test.oci/blobs/sha256", "cdd16bd695ed", false},
};

TEST(KlauspostPgzipFixtures, PgzipLayersRebuildExactlyFromTheirTars) {
  const char* root = std::getenv("OUTPOST_FIXTURES");
  if (root == nullptr) GTEST_SKIP() << "OUTPOST_FIXTURES is not set";
  for (const FixtureLayer& layer : kFixtureLayers) {
    SCOPED_TRACE(std::string(layer.where) + " " + layer.id);
    std::string blob = FindBlob(fs::path(root) / layer.where, layer.id);
    ASSERT_FALSE(blob.empty());
    ASSERT_EQ(blob.substr(0, 10), std::string("\x1f\x8b\x08\x00\x00\x09\x6e\x88\x00\xff", 10));
    std::string rebuilt = OurPgzip(testing::Inflate(blob, 31), 5, kPgzipDefaultBlockSize);
    EXPECT_EQ(rebuilt == blob, layer.exact) << Diff(rebuilt, blob);
  }
}

}  // namespace
}  // namespace outpost::deflate
