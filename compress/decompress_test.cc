#include "compress/decompress.h"

#include <gtest/gtest.h>
#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <cstring>

#include "common/error.h"
#include "compress/gzip_reader.h"
#include "tests/support/bytes.h"
#include "tests/support/matchers.h"

namespace outpost::compress {
namespace {

using outpost::testing::ThrowsKind;
using testing::TextBytes;

// A gzip member: the header bytes given, zlib's raw deflate at `level`, the trailer.
struct GzipRecipe {
  std::string_view header;
  int level;
};
constexpr GzipRecipe kZlib6{std::string_view("\x1f\x8b\x08\0\0\0\0\0\0\xff", 10), 6};
constexpr GzipRecipe kNamed{std::string_view("\x1f\x8b\x08\x08\0\0\0\0\0\x03layer.tar\0", 20), 9};

std::string Compress(const GzipRecipe& recipe, const std::string& data) {
  z_stream z{};
  EXPECT_EQ(deflateInit2(&z, recipe.level, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY), Z_OK);
  std::string body(deflateBound(&z, data.size()), '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  z.next_out = reinterpret_cast<Bytef*>(body.data());
  z.avail_out = static_cast<uInt>(body.size());
  EXPECT_EQ(deflate(&z, Z_FINISH), Z_STREAM_END);
  body.resize(z.total_out);
  deflateEnd(&z);
  uint32_t crc = static_cast<uint32_t>(crc32(0, reinterpret_cast<const Bytef*>(data.data()), static_cast<uInt>(data.size())));
  return std::string(recipe.header) + body + GzipTrailer(crc, data.size());
}

std::string Decompress(const std::string& blob, Compression c) {
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
    auto r = OpenDecompressed(std::make_unique<StringReader>(blob.substr(0, keep)), Compression::kGzip,
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
    Decompress(blob, Compression::kGzip);
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
  EXPECT_THAT([&] { Decompress(blob, Compression::kGzip); }, ThrowsKind(Error::Kind::kCorruption));
}

TEST(GzipReaderTest, IsizeMismatchIsCorruption) {
  std::string blob = Compress(kZlib6, TextBytes(5000));
  blob[blob.size() - 2] ^= 1;
  EXPECT_THAT([&] { Decompress(blob, Compression::kGzip); }, ThrowsKind(Error::Kind::kCorruption));
}

TEST(GzipReaderTest, TruncatedStreamIsCorruptionAtEveryLength) {
  std::string blob = Compress(kZlib6, TextBytes(20000));
  for (size_t n = 0; n < blob.size(); n += 97) {
    try {
      Decompress(blob.substr(0, n), Compression::kGzip);
      ADD_FAILURE() << "no error at length " << n;
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), Error::Kind::kCorruption) << e.what();
    }
  }
}

TEST(GzipReaderTest, TrailingGarbageIsCorruption) {
  std::string blob = Compress(kZlib6, TextBytes(100)) + "garbage";
  EXPECT_THAT([&] { Decompress(blob, Compression::kGzip); }, ThrowsKind(Error::Kind::kCorruption));
}

TEST(GzipReaderTest, FlippedDeflateByteIsAnError) {
  std::string blob = Compress(kZlib6, TextBytes(50000));
  blob[blob.size() / 2] ^= 0x55;
  EXPECT_THAT([&] { Decompress(blob, Compression::kGzip); }, ThrowsKind(Error::Kind::kCorruption));
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
  EXPECT_EQ(Decompress(ZstdFrame(a, 3) + skippable + ZstdFrame(b, 19), Compression::kZstd), a + b);
}

TEST(ZstdReaderTest, TruncatedFrameIsCorruption) {
  std::string blob = ZstdFrame(TextBytes(100000), 3);
  try {
    Decompress(blob.substr(0, blob.size() - 3), Compression::kZstd);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), Error::Kind::kCorruption);
  }
}

TEST(DecompressTest, NoneIsPassthrough) {
  EXPECT_EQ(Decompress("plain", Compression::kNone), "plain");
  auto owned = OpenDecompressed(std::make_unique<StringReader>("plain"), Compression::kNone, "test blob");
  EXPECT_EQ(ReadAll(*owned), "plain");
}

TEST(DecompressTest, OwningReaderDecodesAndNamesTheBlobInErrors) {
  std::string a = TextBytes(100000, 5), b = "tail";
  auto r = OpenDecompressed(std::make_unique<StringReader>(Compress(kZlib6, a) + Compress(kNamed, b)),
                            Compression::kGzip, "test blob");
  EXPECT_EQ(ReadAll(*r, 1 << 30), a + b);
  std::string blob = ZstdFrame(TextBytes(100000), 3);
  auto cut = OpenDecompressed(std::make_unique<StringReader>(blob.substr(0, blob.size() / 2)),
                              Compression::kZstd, "test blob");
  try {
    ReadAll(*cut, 1 << 30);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), Error::Kind::kCorruption);
    EXPECT_EQ(std::string(e.what()).rfind("test blob: ", 0), 0u) << e.what();
  }
}

}  // namespace
}  // namespace outpost::compress
