#include "storage/decompress.h"

#include <gtest/gtest.h>
#include <zstd.h>

#include "common/error.h"
#include "storage/test_images.h"

namespace outpost::storage {
namespace {

std::string Inflate(const std::string& data, image::Compression c) {
  auto r = NewDecompressingReader(std::make_unique<StringReader>(data), c, "test blob");
  return ReadAll(*r);
}

TEST(DecompressTest, GzipMembersAreReadToTheEnd) {
  std::string a(100000, 'x'), b = "tail";
  EXPECT_EQ(Inflate(testing::Gzip(a) + testing::Gzip(b), image::Compression::kGzip), a + b);
}

TEST(DecompressTest, TruncatedGzipIsCorruption) {
  std::string gz = testing::Gzip(std::string(5000, 'q'));
  try {
    Inflate(gz.substr(0, gz.size() - 9), image::Compression::kGzip);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), Error::Kind::kCorruption);
    EXPECT_NE(std::string(e.what()).find("test blob"), std::string::npos);
  }
}

TEST(DecompressTest, ZstdRoundTrips) {
  std::string plain(70000, 'z');
  std::string out(ZSTD_compressBound(plain.size()), '\0');
  out.resize(ZSTD_compress(out.data(), out.size(), plain.data(), plain.size(), 3));
  EXPECT_EQ(Inflate(out, image::Compression::kZstd), plain);
  EXPECT_THROW(Inflate(out.substr(0, out.size() / 2), image::Compression::kZstd), Error);
}

TEST(GzipHeaderTest, ReadsMtimeXflOsAndName) {
  std::string h("\x1f\x8b\x08\x08\x01\x02\x03\x04\x02\x03name.tar\0rest", 24);
  std::optional<GzipHeader> g = ParseGzipHeader(h);
  ASSERT_TRUE(g);
  EXPECT_EQ(g->mtime, 0x04030201u);
  EXPECT_EQ(g->xfl, 2);
  EXPECT_EQ(g->os, 3);
  EXPECT_EQ(g->fname, "name.tar");
  EXPECT_FALSE(ParseGzipHeader("plain"));
}

}  // namespace
}  // namespace outpost::storage
