#include "deflate/go_flate.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include "common/error.h"
#include "common/io.h"
#include "deflate/oracle_harness.h"
#include "tests/support/matchers.h"

namespace outpost::deflate {
namespace {

using outpost::testing::ThrowsKind;
using testing::Hex;

// The expected bytes below were produced by Go 1.19.8's compress/flate (tests/oracles/goflate,
// e.g. `printf 'hello, ...' | goflate -level 6 | xxd -p`); the oracle tests compare with Go live.
const std::string kSample = "hello, hello, hello, hello! abracadabra abracadabra";

// Compresses `input` in one Write, or, if `flush_every` is set, in Writes of that size each
// followed by a SyncFlush (what `goflate -flush N` does).
std::string Compress(int level, const std::string& input, size_t flush_every = 0) {
  StringWriter out;
  testing::FeedEncoder(*NewGoEncoder(level, out), input, {}, flush_every);
  return out.str();
}

TEST(GoFlate, EmptyInputIsOneFinalStoredBlock) { EXPECT_EQ(Hex(Compress(6, "")), "010000ffff"); }

TEST(GoFlate, MatchesGoAtLevel6And9) {
  const std::string kGo = "ca48cdc9c9d751c042292a242615252627a680286436200000ffff";
  EXPECT_EQ(Hex(Compress(6, kSample)), kGo);
  EXPECT_EQ(Hex(Compress(-1, kSample)), kGo);
  EXPECT_EQ(Hex(Compress(9, kSample)), kGo);
  EXPECT_EQ(Hex(Compress(2, kSample)), kGo);
}

TEST(GoFlate, TinyFlushedBlockAtLevel1IsHuffmanOnly) {
  // Under 128 bytes, BestSpeed codes literals only, exactly like HuffmanOnly.
  const std::string kGo =
      "04c0b10900410844d156e6729bfaae82c18060ffc1bd697b43d3f686a6ed0d4ddbfb893c1e451e228f4791c71f"
      "0000ffff";
  EXPECT_EQ(Hex(Compress(1, kSample)), kGo);
  EXPECT_EQ(Hex(Compress(-2, kSample)), kGo);
}

TEST(GoFlate, NoCompressionIsStored) {
  EXPECT_EQ(Hex(Compress(0, kSample)), "003300ccff" + Hex(kSample) + "010000ffff");
}

TEST(GoFlate, SyncFlushEndsWithEmptyStoredBlock) {
  EXPECT_EQ(Hex(Compress(6, "abcabcabcabc", 6)),
            "4a4c4a4e4c4a06000000ffff829000000000ffff010000ffff");
}

TEST(GoFlate, SplitWritesGiveTheSameBytes) {
  std::string input;
  for (int i = 0; i < 5000; ++i) input += "record " + std::to_string(i * 7919 % 1000) + "\n";
  for (int level : {-2, 0, 1, 4, 6}) {
    StringWriter out;
    auto enc = NewGoEncoder(level, out);
    for (char c : input) enc->Write(reinterpret_cast<const uint8_t*>(&c), 1);
    enc->Finish();
    EXPECT_EQ(out.str(), Compress(level, input)) << "level " << level;
  }
}

TEST(GoFlate, FinishTwiceWritesNothingMoreAndWriteAfterFinishThrows) {
  StringWriter out;
  auto enc = NewGoEncoder(6, out);
  enc->Finish();
  enc->Finish();
  EXPECT_EQ(Hex(out.str()), "010000ffff");
  const uint8_t byte = 'x';
  EXPECT_THAT([&] { enc->Write(&byte, 1); }, ThrowsKind(Error::Kind::kInvalidArgument));
}

TEST(GoFlate, UnsupportedLevelIsInvalidArgument) {
  NullWriter out;
  for (int level : {-3, 10}) {
    try {
      NewGoEncoder(level, out);
      ADD_FAILURE() << "level " << level << " accepted";
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), Error::Kind::kInvalidArgument);
    }
  }
}

}  // namespace
}  // namespace outpost::deflate
