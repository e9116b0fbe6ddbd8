// Fast in-process checks of the GNU gzip encoder (the byte-exact oracle comparisons against the
// real gzip live in gnu_gzip_test.cc).

#include <gtest/gtest.h>

#include "common/error.h"
#include "deflate/gnu_gzip.h"
#include "deflate/oracle_harness.h"
#include "deflate/test_inputs.h"
#include "tests/support/matchers.h"

namespace outpost::deflate {
namespace {

using outpost::testing::ThrowsKind;

GnuGzipHeader Header(int level, uint32_t mtime = 0, std::string name = "") {
  GnuGzipHeader h;
  h.level = level;
  h.mtime = mtime;
  h.name = std::move(name);
  return h;
}

std::string Gzip(const std::string& data, int level, size_t chunk = 1 << 20) {
  StringWriter out;
  WriteGnuGzipHeader(Header(level), out);
  auto enc = NewGnuGzipEncoder(level, out);
  for (size_t i = 0; i < data.size(); i += chunk) {
    size_t n = std::min(chunk, data.size() - i);
    enc->Write(reinterpret_cast<const uint8_t*>(data.data() + i), n);
  }
  enc->Finish();
  return out.str();
}

// The body of a gzip stream with a 10-byte header (no FNAME), inflated; a trailer is optional.
std::string Gunzip(const std::string& gz) { return testing::Inflate(std::string_view(gz).substr(10), -15); }

TEST(GnuGzipUnit, EmptyInputIsOneFixedBlockLikeGzip) {
  // `gzip -n -6 </dev/null | xxd` body: 03 00.
  EXPECT_EQ(Gzip("", 6).substr(10), std::string("\x03\x00", 2));
}

TEST(GnuGzipUnit, HeaderCarriesLevelFlagsNameAndTime) {
  StringWriter out;
  WriteGnuGzipHeader(Header(9, 0x01020304, "a.txt"), out);
  EXPECT_EQ(out.str(), std::string("\x1f\x8b\x08\x08\x04\x03\x02\x01\x02\x03" "a.txt\0", 16));
  StringWriter fast;
  WriteGnuGzipHeader(Header(1), fast);
  EXPECT_EQ(fast.str(), std::string("\x1f\x8b\x08\x00\x00\x00\x00\x00\x04\x03", 10));
}

TEST(GnuGzipUnit, EveryLevelRoundTrips) {
  std::string data = testing::MixedBytes(200000, 7);
  for (int level = 1; level <= 9; ++level) {
    EXPECT_EQ(Gunzip(Gzip(data, level)), data) << "level " << level;
  }
}

TEST(GnuGzipUnit, OutputDoesNotDependOnHowWritesAreSplit) {
  std::string data = testing::MixedBytes(150000, 11);
  for (int level : {1, 6, 9}) {
    std::string whole = Gzip(data, level);
    EXPECT_EQ(Gzip(data, level, 1), whole) << "level " << level;
    EXPECT_EQ(Gzip(data, level, 32767), whole) << "level " << level;
  }
}

TEST(GnuGzipUnit, CompressWritesHeaderBodyAndTrailer) {
  std::string data = testing::EnglishText(50000, 3);
  StringReader in(data);
  StringWriter out;
  EXPECT_EQ(GnuGzipCompress(in, Header(9), out), data.size());
  EXPECT_EQ(Gunzip(out.str()), data);
  EXPECT_LT(out.str().size(), data.size() / 2);
}

TEST(GnuGzipUnit, SyncFlushIsUnsupportedAndBadLevelsAreRejected) {
  StringWriter out;
  auto enc = NewGnuGzipEncoder(6, out);
  try {
    enc->SyncFlush();
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), Error::Kind::kUnsupported);
  }
  EXPECT_THAT([&] { NewGnuGzipEncoder(0, out); }, ThrowsKind(Error::Kind::kInvalidArgument));
  EXPECT_THAT([&] { NewGnuGzipEncoder(10, out); }, ThrowsKind(Error::Kind::kInvalidArgument));
}

}  // namespace
}  // namespace outpost::deflate
