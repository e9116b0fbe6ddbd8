#include "codec/probe.h"

#include <gtest/gtest.h>
#include <zstd.h>

#include "codec/test_util.h"
#include "common/error.h"
#include "tests/support/matchers.h"

namespace outpost::codec {
namespace {

using outpost::testing::ThrowsKind;
using testing::Compress;
using testing::TextBytes;

TEST(ProbeTest, FindsAndProvesZlibRecipes) {
  std::string data = TextBytes(300000);
  for (const char* recipe : {"v1 gzip hdr=1f8b08000000000000ff deflate=zlib:6:mem=8:strategy=0:wbits=15",
                             "v1 gzip hdr=1f8b08000000000004ff deflate=zlib:1:mem=8:strategy=0:wbits=15",
                             "v1 gzip hdr=1f8b08000000000000ff deflate=zlib:4:mem=9:strategy=0:wbits=15",
                             "v1 gzip hdr=1f8b0808000000000003612e74617200 deflate=pigz:6:block=131072"}) {
    std::string blob = Compress(recipe, data);
    ProbeResult r = ProbeBytes(blob);
    ASSERT_TRUE(r.exact) << recipe << ": " << r.reason;
    EXPECT_EQ(Compress(r.recipe.str(), data), blob);
    EXPECT_EQ(r.diff_id, Digest::Of(data));
    EXPECT_EQ(r.uncompressed_size, data.size());
    EXPECT_EQ(r.blob_digest, Digest::Of(blob));
  }
}

TEST(ProbeTest, UncompressedBlobIsItsOwnRecipe) {
  ProbeResult r = ProbeBytes("just a tar");
  EXPECT_TRUE(r.exact);
  EXPECT_EQ(r.recipe.str(), "v1 none");
  EXPECT_EQ(r.diff_id, Digest::Of("just a tar"));
}

TEST(ProbeTest, UnknownEncoderIsANormalNoRecipe) {
  // zlib with a small window: no writer we know does that, so nothing reproduces it.
  std::string blob = Compress("v1 gzip hdr=1f8b08000000000000ff deflate=zlib:6:wbits=10", TextBytes(200000));
  ProbeResult r = ProbeBytes(blob);
  EXPECT_FALSE(r.exact);
  EXPECT_EQ(r.reason.rfind("no recipe: ", 0), 0u) << r.reason;
  EXPECT_GT(r.candidates_tried, 0);
}

TEST(ProbeTest, MultiMemberGzipHasNoRecipe) {
  std::string one = Compress("v1 gzip hdr=1f8b08000000000000ff deflate=zlib:6", "a");
  ProbeResult r = ProbeBytes(one + one);
  EXPECT_FALSE(r.exact);
  EXPECT_NE(r.reason.find("2 members"), std::string::npos) << r.reason;
}

TEST(ProbeTest, FindsZstdSingleThreadedFrames) {
  std::string data = TextBytes(200000);
  std::string blob(ZSTD_compressBound(data.size()), '\0');
  blob.resize(ZSTD_compress(blob.data(), blob.size(), data.data(), data.size(), 5));
  ProbeResult r = ProbeBytes(blob);
  ASSERT_TRUE(r.exact) << r.reason;
  EXPECT_EQ(Compress(r.recipe.str(), data), blob);
}

TEST(ProbeTest, CorruptBlobIsCorruption) {
  std::string blob = Compress("v1 gzip hdr=1f8b08000000000000ff deflate=zlib:6", TextBytes(1000));
  blob.resize(blob.size() - 4);
  EXPECT_THAT([&] { ProbeBytes(blob); }, ThrowsKind(Error::Kind::kCorruption));
}

// Probe with known facts over in-memory `blob` and its uncompressed `data`.
ProbeResult ProbeKnown(const std::string& blob, const std::string& data, const Digest& digest) {
  auto open = [](const std::string& bytes) {
    return [&bytes] { return std::make_unique<StringReader>(bytes); };
  };
  KnownBlob known{digest, blob.size(), Digest::Of(data), data.size(), open(data)};
  return Probe(open(blob), known);
}

TEST(ProbeTest, KnownFactsFindTheSameRecipeWithoutASurvey) {
  std::string data = TextBytes(300000);
  std::string blob = Compress("v1 gzip hdr=1f8b08000000000004ff deflate=zlib:1:mem=8:strategy=0:wbits=15", data);
  ProbeResult r = ProbeKnown(blob, data, Digest::Of(blob));
  ASSERT_TRUE(r.exact) << r.reason;
  EXPECT_EQ(r.recipe.str(), ProbeBytes(blob).recipe.str());
}

TEST(ProbeTest, KnownFactsStillProveTheSha256) {
  std::string data = TextBytes(100000);
  std::string blob = Compress("v1 gzip hdr=1f8b08000000000000ff deflate=zlib:6", data);
  // A caller that got the digest wrong: no candidate can prove it; the fallback survey finds the
  // real digest and the recipe, which is then right for these bytes.
  ProbeResult r = ProbeKnown(blob, data, Digest::Of("something else"));
  ASSERT_TRUE(r.exact) << r.reason;
  EXPECT_EQ(r.blob_digest, Digest::Of(blob));
}

TEST(ProbeTest, KnownFactsFallBackToTheSurveyForTheReason) {
  std::string one = Compress("v1 gzip hdr=1f8b08000000000000ff deflate=zlib:6", "a");
  ProbeResult r = ProbeKnown(one + one, "aa", Digest::Of(one + one));
  EXPECT_FALSE(r.exact);
  EXPECT_NE(r.reason.find("2 members"), std::string::npos) << r.reason;
}

}  // namespace
}  // namespace outpost::codec
