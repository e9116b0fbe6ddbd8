#include "compress/gzip_format.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include "common/error.h"
#include "tests/support/matchers.h"

namespace outpost::compress {
namespace {

using outpost::testing::ThrowsKind;

std::string HeaderWithEveryField() {
  std::string h = {'\x1f', '\x8b', 8, kFlagExtra | kFlagName | kFlagComment | kFlagHcrc, 1, 2, 3, 4, 2, 3};
  h += std::string{3, 0} + "abc";
  h += std::string("layer.tar") + '\0';
  h += std::string("a comment") + '\0';
  uint32_t crc = crc32(0, reinterpret_cast<const Bytef*>(h.data()), static_cast<uInt>(h.size()));
  h += static_cast<char>(crc & 0xff);
  h += static_cast<char>((crc >> 8) & 0xff);
  return h;
}

TEST(GzipHeaderTest, EveryFieldIsParsedAndRawBytesKept) {
  std::string h = HeaderWithEveryField();
  auto parsed = GzipHeader::Parse(h + "deflate data follows");
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->mtime, 0x04030201u);
  EXPECT_EQ(parsed->xfl, 2);
  EXPECT_EQ(parsed->os, 3);
  EXPECT_EQ(*parsed->extra, "abc");
  EXPECT_EQ(*parsed->name, "layer.tar");
  EXPECT_EQ(*parsed->comment, "a comment");
  EXPECT_TRUE(parsed->header_crc.has_value());
  EXPECT_EQ(parsed->raw, h);
}

TEST(GzipHeaderTest, IncompleteHeaderAsksForMore) {
  std::string h = HeaderWithEveryField();
  for (size_t n = 0; n < h.size(); ++n) EXPECT_FALSE(GzipHeader::Parse(h.substr(0, n))) << n;
}

TEST(GzipHeaderTest, WrongHeaderCrcIsCorruption) {
  std::string h = HeaderWithEveryField();
  h.back() ^= 1;
  EXPECT_THAT([&] { GzipHeader::Parse(h); }, ThrowsKind(Error::Kind::kCorruption));
}

TEST(GzipHeaderTest, BadMagicOrMethodIsCorruption) {
  EXPECT_THAT([&] { GzipHeader::Parse(std::string("\x1f\x8c", 2)); }, ThrowsKind(Error::Kind::kCorruption));
  EXPECT_THAT([&] { GzipHeader::Parse(std::string("\x1f\x8b\x07\0\0\0\0\0\0\xff", 10)); },
              ThrowsKind(Error::Kind::kCorruption));
}

TEST(GzipHeaderTest, FromRawRejectsTrailingBytes) {
  std::string h("\x1f\x8b\x08\0\0\0\0\0\0\xff", 10);
  EXPECT_EQ(GzipHeader::FromRaw(h).os, 255);
  EXPECT_THAT([&] { GzipHeader::FromRaw(h + "x"); }, ThrowsKind(Error::Kind::kInvalidArgument));
}

TEST(GzipTrailerTest, IsCrcThenLengthModuloFourGiB) {
  EXPECT_EQ(GzipTrailer(0x11223344, (uint64_t{1} << 32) + 5), std::string("\x44\x33\x22\x11\x05\0\0\0", 8));
}

}  // namespace
}  // namespace outpost::compress
