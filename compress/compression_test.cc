#include "compress/compression.h"

#include <gtest/gtest.h>

namespace outpost::compress {
namespace {

TEST(SniffCompressionTest, GzipNeedsTheDeflateMethodByte) {
  EXPECT_EQ(SniffCompression(std::string("\x1f\x8b\x08", 3)), Compression::kGzip);
  EXPECT_EQ(SniffCompression(std::string("\x1f\x8b\x09", 3)), Compression::kNone);
  EXPECT_EQ(SniffCompression(std::string("\x1f\x8b", 2)), Compression::kNone);
}

TEST(SniffCompressionTest, ZstdFramesAndSkippableFramesAreZstd) {
  EXPECT_EQ(SniffCompression(std::string("\x28\xb5\x2f\xfd", 4)), Compression::kZstd);
  EXPECT_EQ(SniffCompression(std::string("\x5a\x2a\x4d\x18", 4)), Compression::kZstd);
  EXPECT_EQ(SniffCompression(std::string("\x60\x2a\x4d\x18", 4)), Compression::kNone);
  EXPECT_EQ(SniffCompression("ustar"), Compression::kNone);
}

}  // namespace
}  // namespace outpost::compress
