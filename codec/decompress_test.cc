#include "codec/decompress.h"

#include <gtest/gtest.h>
#include <zstd.h>

#include <algorithm>
#include <cstring>

#include "codec/test_util.h"
#include "common/error.h"
#include "tests/support/matchers.h"

namespace outpost::codec {
namespace {

using outpost::testing::ThrowsKind;
using testing::Compress;
using testing::TextBytes;

constexpr const char* kZlib6 = "v1 gzip hdr=1f8b08000000000000ff deflate=zlib:6";
constexpr const char* kNamed = "v1 gzip hdr=1f8b08080000000000036c617965722e74617200 deflate=zlib:9";

std::string Decompress(const std::string& blob, image::Compression c) {
  StringReader in(blob);
  auto r = OpenDecompressed(in, c);
  return ReadAll(*r, 1 << 30);
}

TEST(GzipReaderTest, MultiMemberStreamDecodesAsOneAndReportsMembers) {
  std::string a = TextBytes(300000, 1), b = TextBytes(1000, 2);
  StringReader in(Compress(kZlib6, a) + Compress(kNamed, b));
  std::vector<GzipMember> members;
  GzipReader r(in, [&](const GzipMember& m) { members.push_back(m); });
  EXPECT_EQ(ReadAll(r, 1 << 30), a + b);
  ASSERT_EQ(members.size(), 2u);
  EXPECT_EQ(r.member_count(), 2u);
  EXPECT_EQ(members[0].uncompressed_size, a.size());
  EXPECT_EQ(members[1].offset, members[0].end_offset);
  EXPECT_EQ(*members[1].header.name, "layer.tar");
  EXPECT_EQ(r.first_header()->os, 255);
}

// Hands out its bytes a few at a time, so member ends fall anywhere relative to refills.
class TrickleReader : public Reader {
 public:
  explicit TrickleReader(std::string data) : data_(std::move(data)) {}
  size_t Read(uint8_t* buf, size_t n) override {
    size_t take = std::min({n, data_.size() - pos_, size_t{1} + pos_ % 7});
    std::memcpy(buf, data_.data() + pos_, take);
    pos_ += take;
    return take;
  }

 private:
  std::string data_;
  size_t pos_ = 0;
};

TEST(GzipReaderTest, MembersArrivingInTinyReadsDecodeExactly) {
  std::string plain, blob;
  for (uint32_t i = 0; i < 6; ++i) {
    std::string part = TextBytes(i * 37 + (i == 3 ? 5000 : 0), i);
    plain += part;
    blob += Compress(i % 2 ? kNamed : kZlib6, part);
  }
  TrickleReader in(blob);
  std::vector<GzipMember> members;
  GzipReader r(in, [&](const GzipMember& m) { members.push_back(m); });
  EXPECT_EQ(ReadAll(r, 1 << 30), plain);
  ASSERT_EQ(members.size(), 6u);
  EXPECT_EQ(members.back().end_offset, blob.size());
}

TEST(GzipReaderTest, TruncationErrorsNameTheBlobAndWhere) {
  std::string blob = Compress(kZlib6, TextBytes(200000));
  auto message = [&](size_t keep) {
    auto r = OpenDecompressed(std::make_unique<StringReader>(blob.substr(0, keep)), image::Compression::kGzip,
                              "layer sha256:abc");
    try {
      ReadAll(*r, 1 << 30);
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), Error::Kind::kCorruption);
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_EQ(message(blob.size() / 2), "layer sha256:abc: gzip stream is truncated inside member 1");
  EXPECT_EQ(message(blob.size() - 3), "layer sha256:abc: gzip stream ends inside the trailer of member 1");
}

TEST(GzipReaderTest, CorruptDeflateDataSaysInvalidAndWhere) {
  std::string blob = Compress(kZlib6, TextBytes(50000));
  blob[12] = static_cast<char>(0xff);  // block type 3 does not exist
  try {
    Decompress(blob, image::Compression::kGzip);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), Error::Kind::kCorruption);
    EXPECT_NE(std::string(e.what()).find("gzip member 1 has invalid deflate data near offset"), std::string::npos)
        << e.what();
  }
}

TEST(GzipReaderTest, CrcMismatchIsCorruption) {
  std::string blob = Compress(kZlib6, TextBytes(5000));
  blob[blob.size() - 6] ^= 1;
  EXPECT_THAT([&] { Decompress(blob, image::Compression::kGzip); }, ThrowsKind(Error::Kind::kCorruption));
}

TEST(GzipReaderTest, IsizeMismatchIsCorruption) {
  std::string blob = Compress(kZlib6, TextBytes(5000));
  blob[blob.size() - 2] ^= 1;
  EXPECT_THAT([&] { Decompress(blob, image::Compression::kGzip); }, ThrowsKind(Error::Kind::kCorruption));
}

TEST(GzipReaderTest, TruncatedStreamIsCorruptionAtEveryLength) {
  std::string blob = Compress(kZlib6, TextBytes(20000));
  for (size_t n = 0; n < blob.size(); n += 97) {
    try {
      Decompress(blob.substr(0, n), image::Compression::kGzip);
      ADD_FAILURE() << "no error at length " << n;
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), Error::Kind::kCorruption) << e.what();
    }
  }
}

TEST(GzipReaderTest, TrailingGarbageIsCorruption) {
  std::string blob = Compress(kZlib6, TextBytes(100)) + "garbage";
  EXPECT_THAT([&] { Decompress(blob, image::Compression::kGzip); }, ThrowsKind(Error::Kind::kCorruption));
}

TEST(GzipReaderTest, FlippedDeflateByteIsAnError) {
  std::string blob = Compress(kZlib6, TextBytes(50000));
  blob[blob.size() / 2] ^= 0x55;
  EXPECT_THAT([&] { Decompress(blob, image::Compression::kGzip); }, ThrowsKind(Error::Kind::kCorruption));
}

TEST(GzipReaderTest, InspectGzipListsHeaders) {
  StringReader in(Compress(kNamed, "x"));
  auto members = InspectGzip(in);
  ASSERT_EQ(members.size(), 1u);
  EXPECT_EQ(members[0].header.os, 3);
  EXPECT_EQ(members[0].crc, 0x8cdc1683u);
}

std::string ZstdFrame(const std::string& data, int level) {
  std::string out(ZSTD_compressBound(data.size()), '\0');
  out.resize(ZSTD_compress(out.data(), out.size(), data.data(), data.size(), level));
  return out;
}

TEST(ZstdReaderTest, FramesAndSkippableFramesDecodeAsOneStream) {
  std::string a = TextBytes(400000, 3), b = TextBytes(77, 4);
  std::string skippable("\x50\x2a\x4d\x18\x03\0\0\0abc", 11);
  EXPECT_EQ(Decompress(ZstdFrame(a, 3) + skippable + ZstdFrame(b, 19), image::Compression::kZstd), a + b);
}

TEST(ZstdReaderTest, TruncatedFrameIsCorruption) {
  std::string blob = ZstdFrame(TextBytes(100000), 3);
  try {
    Decompress(blob.substr(0, blob.size() - 3), image::Compression::kZstd);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), Error::Kind::kCorruption);
  }
}

TEST(DecompressTest, NoneIsPassthrough) {
  EXPECT_EQ(Decompress("plain", image::Compression::kNone), "plain");
  auto owned = OpenDecompressed(std::make_unique<StringReader>("plain"), image::Compression::kNone, "test blob");
  EXPECT_EQ(ReadAll(*owned), "plain");
}

TEST(DecompressTest, OwningReaderDecodesAndNamesTheBlobInErrors) {
  std::string a = TextBytes(100000, 5), b = "tail";
  auto r = OpenDecompressed(std::make_unique<StringReader>(Compress(kZlib6, a) + Compress(kNamed, b)),
                            image::Compression::kGzip, "test blob");
  EXPECT_EQ(ReadAll(*r, 1 << 30), a + b);
  std::string blob = ZstdFrame(TextBytes(100000), 3);
  auto cut = OpenDecompressed(std::make_unique<StringReader>(blob.substr(0, blob.size() / 2)),
                              image::Compression::kZstd, "test blob");
  try {
    ReadAll(*cut, 1 << 30);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), Error::Kind::kCorruption);
    EXPECT_EQ(std::string(e.what()).rfind("test blob: ", 0), 0u) << e.what();
  }
}

}  // namespace
}  // namespace outpost::codec
