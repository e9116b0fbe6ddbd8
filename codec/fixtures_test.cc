// Probes every compressed layer in the real-image fixtures ($OUTPOST_FIXTURES): blobs of OCI
// layouts, layers inside oci-archive / docker-archive tars, and whole gzip files. Layers whose
// encoder family the codec covers (per the fixtures' INDEX.md) must rebuild exactly; the layer
// nothing known reproduces must get "no recipe".
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <set>

#include "codec/deflate_family.h"
#include "codec/probe.h"
#include "codec/rebuild.h"
#include "common/error.h"
#include "common/file.h"
#include "compress/decompress.h"
#include "compress/gzip_reader.h"
#include "tar/tar_reader.h"

namespace outpost::codec {
namespace {

constexpr size_t kMaxLayerBytes = 64 << 20;

struct Probed {
  std::string where;
  ProbeResult result;
};

// INDEX.md's per-layer compressor guess, by the first 12 hex digits of the blob digest.
std::map<std::string, std::string> ReadIndexGuesses(const fs::path& index) {
  std::map<std::string, std::string> guesses;
  std::ifstream in(index);
  for (std::string line; std::getline(in, line);) {
    // "| # | mediaType | size | head10 | header | exact match | guess | sha256:<12 hex>… |"
    std::vector<std::string> cells;
    size_t first = line.find_first_not_of(' ');
    if (first == std::string::npos || line[first] != '|') continue;
    for (size_t p = first, q; (q = line.find('|', p + 1)) != std::string::npos; p = q) cells.push_back(line.substr(p + 1, q - p - 1));
    if (cells.size() < 3) continue;
    std::string digest = cells.back(), guess = cells[cells.size() - 2];
    size_t at = digest.find("sha256:");
    if (at == std::string::npos || digest.size() < at + 19) continue;
    guesses[digest.substr(at + 7, 12)] = guess.substr(1, guess.size() - 2);
  }
  return guesses;
}

// The recipe family an INDEX guess names, or "" when the codec does not claim that encoder.
std::string ExpectedFamily(const std::string& guess) {
  if (guess.find("OLDER") != std::string::npos || guess.find("UNIDENTIFIED") != std::string::npos) return "";
  if (guess.find("Go stdlib") != std::string::npos) return "go";
  if (guess.find("pgzip v1.2.5") != std::string::npos) return "pgzip";
  if (guess.find("Java") != std::string::npos || guess.find("zlib") != std::string::npos) return "zlib";
  if (guess.find("pigz") != std::string::npos) return "pigz";
  if (guess.find("GNU gzip") != std::string::npos) return "gnu";
  return "";
}

bool FamilyCovered(const std::string& family) {
  for (const DeflateFamily& f : DeflateFamilies()) {
    if (f.name == family) return true;
  }
  return false;
}

bool IsCompressed(std::string_view head) { return image::SniffCompression(head) != image::Compression::kNone; }

class FixtureWalker {
 public:
  std::map<std::string, Probed> probed;  // by blob digest

  void ProbeBlob(const std::string& where, const std::string& bytes) {
    std::string key = Digest::Of(bytes).str();
    if (probed.count(key)) return;
    probed[key] = Probed{where, ProbeBytes(bytes)};
  }

  // Layers inside a tar archive (oci-archive, docker-archive).
  void WalkTar(const std::string& where, Reader& in) {
    tar::Reader tr(in);
    tar::Entry e;
    try {
      while (tr.Next(&e)) {
        if (!e.is_regular() || e.size < 4 || e.size > kMaxLayerBytes) continue;
        std::string content(e.size, '\0');
        ReadFull(tr, e, &content);
        if (IsCompressed(content)) ProbeBlob(where + ":" + e.name, content);
      }
    } catch (const Error&) {
      // Not a tar after all (a raw layer blob that happens to be uncompressed data).
    }
  }

  void WalkFile(const fs::path& path, const fs::path& root) {
    std::string rel = fs::relative(path, root).string();
    if (fs::file_size(path) > kMaxLayerBytes) return;
    std::string bytes = ReadFileToString(path, kMaxLayerBytes);
    if (IsCompressed(bytes)) {
      ProbeBlob(rel, bytes);
      if (image::SniffCompression(bytes) == image::Compression::kGzip) {
        StringReader raw(bytes);
        compress::GzipReader plain(raw);
        WalkTar(rel, plain);
      }
    } else if (rel.find("blobs/sha256/") == std::string::npos) {
      StringReader raw(bytes);
      WalkTar(rel, raw);
    }
  }

 private:
  static void ReadFull(tar::Reader& tr, const tar::Entry& e, std::string* out) {
    size_t done = 0;
    while (done < e.size) {
      size_t got = tr.ReadData(reinterpret_cast<uint8_t*>(out->data()) + done, e.size - done);
      if (got == 0) throw Corruption("short tar entry");
      done += got;
    }
  }
};

TEST(FixturesTest, EveryCoveredLayerRebuildsExactly) {
  const char* env = std::getenv("OUTPOST_FIXTURES");
  if (env == nullptr) GTEST_SKIP() << "OUTPOST_FIXTURES is not set";
  fs::path root(env);
  auto guesses = ReadIndexGuesses(root / "INDEX.md");
  ASSERT_GT(guesses.size(), 20u);
  FixtureWalker walker;
  for (const auto& entry : fs::recursive_directory_iterator(root)) {
    if (entry.is_regular_file() && entry.path().filename() != "INDEX.md") walker.WalkFile(entry.path(), root);
  }
  std::map<std::string, std::pair<int, int>> by_family;  // family -> (exact, total)
  for (const auto& [digest, p] : walker.probed) {
    std::string hex12 = digest.substr(7, 12);
    auto it = guesses.find(hex12);
    std::string guess = it == guesses.end() ? "(whole file or raw blob)" : it->second;
    std::string expected = ExpectedFamily(guess);
    std::string got = p.result.exact ? p.result.recipe.str() : p.result.reason;
    std::string family = p.result.exact ? (p.result.recipe.deflate.family.empty() ? "zstd/none" : p.result.recipe.deflate.family)
                                        : "no recipe";
    auto& [exact, total] = by_family[expected.empty() ? "other:" + guess.substr(0, 40) : expected];
    ++total;
    exact += p.result.exact;
    std::printf("%-12s %-9s %-45.45s %s\n", hex12.c_str(), family.c_str(), guess.c_str(), got.c_str());
    if (FamilyCovered(expected)) {
      EXPECT_TRUE(p.result.exact) << p.where << " (" << guess << "): " << got;
    }
    if (guess.find("UNIDENTIFIED") != std::string::npos) {
      EXPECT_FALSE(p.result.exact) << p.where;
    }
  }
  std::printf("\n%-50s %s\n", "expected family (INDEX.md)", "exact / probed");
  for (const auto& [family, counts] : by_family) std::printf("%-50s %d / %d\n", family.c_str(), counts.first, counts.second);
  // Per-family counts of (exact, probed) over the fixtures as collected in INDEX.md.
  using Counts = std::pair<int, int>;
  EXPECT_EQ(by_family["go"], Counts(37, 37));
  EXPECT_EQ(by_family["pgzip"], Counts(15, 15));
  EXPECT_EQ(by_family["zlib"], Counts(4, 4));
  EXPECT_EQ(by_family["pigz"], Counts(2, 2));
  EXPECT_EQ(by_family["gnu"], Counts(3, 3));
  EXPECT_EQ(by_family["other:klauspost/pgzip with OLDER klauspost/com"], Counts(0, 5));
  EXPECT_EQ(by_family["other:(whole file or raw blob)"], Counts(29, 29));
  EXPECT_EQ(by_family["other:UNIDENTIFIED zlib-family writer (OS=3, m"], Counts(0, 1));
  EXPECT_EQ(by_family["other:gzip, 4 members (eStargz/multi-member)"], Counts(0, 1));
}

}  // namespace
}  // namespace outpost::codec
