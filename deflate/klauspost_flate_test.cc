#include "deflate/klauspost_flate.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include "common/error.h"
#include "common/io.h"
#include "deflate/kp_pgzip.h"
#include "deflate/oracle_harness.h"
#include "tests/support/matchers.h"

namespace outpost::deflate {
namespace {

using outpost::testing::ThrowsKind;
using testing::Hex;
using testing::Inflate;

// The expected bytes below were produced by klauspost/compress v1.15.12 (tests/oracles/kpflate,
// e.g. `kpflate -level 5 < sample | xxd -p`); the oracle tests compare with it live.
std::string Sample() {
  std::string s;
  for (int i = 0; i < 40; ++i) {
    s += "line " + std::to_string(i * 7 % 13) + ": the quick brown fox jumps over " +
         std::to_string(i % 5) + " dogs\n";
  }
  return s;
}

// Compresses `input` in one Write, or in Writes of `flush_every` bytes each followed by a
// SyncFlush (what `kpflate -flush N` does).
std::string Compress(int level, const std::string& input, size_t flush_every = 0,
                     std::string_view dict = {}) {
  StringWriter out;
  testing::FeedEncoder(*NewKlauspostEncoder(level, out, dict), input, {}, flush_every, true);
  return out.str();
}

// Mixed content: text, a little pseudo-random noise, and zeros.
std::string Mixed(size_t n) {
  std::string s;
  uint32_t x = 12345;
  while (s.size() < n) {
    s += Sample();
    for (int i = 0; i < 3000; ++i) {
      x = x * 1103515245 + 12345;
      s += static_cast<char>(x >> 24);
    }
    s.append(5000, '\0');
  }
  s.resize(n);
  return s;
}

TEST(KlauspostFlate, EmptyInputIsOneFinalFixedBlock) { EXPECT_EQ(Hex(Compress(5, "")), "0300"); }

TEST(KlauspostFlate, MatchesKlauspostAtLevel5AndDefault) {
  const std::string kGo =
      "94924bb282401004f79ca28f303d3defa3c75110f1c328887a7c235c15ab8adae72633f2328c9da5ad3d8e9dd"
      "d97617fb6dd545fa31deadb4ecbf5365b7d7693256b6b3f375ffa8fd20eb4533a03fd4fe9003a53ba00bda134"
      "5a06a557963c216a164aa3a6f386e8f94369f4741e11457f298d9ebc4a4863a1268f92a4b1d09237c9d258218"
      "db5b2e4099334966b636569acd0c62ad258e8c9abb8345696c60a69ac228d95a4b15c1a6b65c913863456d1c6"
      "4ad258ae8d95a5b1d0935729d6d67e6e3e0300";
  EXPECT_EQ(Hex(Compress(5, Sample())), kGo);
  EXPECT_EQ(Hex(Compress(-1, Sample())), kGo);
}

TEST(KlauspostFlate, MatchesKlauspostAtLevel9) {
  EXPECT_EQ(Hex(Compress(9, Sample())),
            "94d34db2c2201045e1f95b452fa11b48026f392a6afc099a1875f956396286677e265fd5bd9771caa2ff"
            "f23866b9afe3f62c9bb9bc26d997b79cd6eb6d91f2ccb3a8ecca61f9fbd643b3b6aab666edaa3a366b5f"
            "d5ae5987aa4e48e99952113320a6197276c8690e417be454e41c10d3103322a543ca84949e29d937035b"
            "2d3b67c756cbded923a722e78098869811291d5226a4f44cc9be19d86ad9393bb65af6ce1e39f557e767"
            "00");
}

TEST(KlauspostFlate, TinyInputsAreStoredAtEveryLevel) {
  // Short flushed windows are stored, and an empty final block costs two bytes.
  const std::string kSample = "hello, hello, hello, hello! abracadabra abracadabra";
  for (int level : {-2, 0, 1, 5}) {
    EXPECT_EQ(Hex(Compress(level, kSample)), "003300ccff" + Hex(kSample) + "0300") << level;
  }
}

TEST(KlauspostFlate, SyncFlushEndsWithEmptyStoredBlock) {
  EXPECT_EQ(Hex(Compress(5, "abcabcabcabc", 6)),
            "000600f9ff616263616263000000ffff000600f9ff616263616263000000ffff0300");
}

TEST(KlauspostFlate, EveryLevelRoundTripsThroughZlib) {
  std::string input = Mixed(300000);
  for (int level = -2; level <= 9; ++level) {
    EXPECT_EQ(Inflate(Compress(level, input), -15), input) << "level " << level;
    EXPECT_EQ(Inflate(Compress(level, input, 70000), -15), input) << "level " << level;
  }
}

TEST(KlauspostFlate, DictionaryIsUsedAndRoundTrips) {
  std::string dict = Sample();
  std::string input = Sample().substr(100, 900);
  for (int level : {1, 5, 6, 9}) {
    std::string with = Compress(level, input, 0, dict);
    EXPECT_LT(with.size(), Compress(level, input).size()) << "level " << level;
    EXPECT_EQ(Inflate(with, -15, dict), input) << "level " << level;
  }
}

TEST(KlauspostFlate, SplitWritesGiveTheSameBytes) {
  std::string input = Mixed(100000);
  for (int level : {-2, 0, 1, 5, 7}) {
    StringWriter out;
    auto enc = NewKlauspostEncoder(level, out);
    for (size_t pos = 0; pos < input.size(); pos += 7) {
      size_t n = std::min<size_t>(7, input.size() - pos);
      enc->Write(reinterpret_cast<const uint8_t*>(input.data()) + pos, n);
    }
    enc->Finish();
    EXPECT_EQ(out.str(), Compress(level, input)) << "level " << level;
  }
}

TEST(KlauspostFlate, FinishTwiceWritesNothingMoreAndWriteAfterFinishThrows) {
  for (int level : {5, 9}) {
    StringWriter out;
    auto enc = NewKlauspostEncoder(level, out);
    enc->Finish();
    enc->Finish();
    EXPECT_EQ(Hex(out.str()), "0300");
    const uint8_t byte = 'x';
    EXPECT_THAT([&] { enc->Write(&byte, 1); }, ThrowsKind(Error::Kind::kInvalidArgument));
    EXPECT_THAT([&] { enc->SyncFlush(); }, ThrowsKind(Error::Kind::kInvalidArgument));
  }
}

TEST(KlauspostFlate, ResetGivesTheBytesOfANewEncoder) {
  std::string first = Mixed(150000);
  std::string second = Mixed(90000).substr(1000);
  std::string dict = first.substr(first.size() - 16384);
  for (int level = -2; level <= 9; ++level) {
    StringWriter a;
    StringWriter b;
    auto enc = NewKlauspostEncoder(level, a);
    enc->Write(reinterpret_cast<const uint8_t*>(first.data()), first.size());
    enc->SyncFlush();  // left unfinished on purpose
    enc->Reset(b, dict);
    enc->Write(reinterpret_cast<const uint8_t*>(second.data()), second.size());
    enc->Finish();
    EXPECT_EQ(b.str(), Compress(level, second, 0, dict)) << "level " << level;
  }
}

TEST(KlauspostFlate, UnsupportedLevelIsInvalidArgument) {
  NullWriter out;
  for (int level : {-3, 10}) {
    try {
      NewKlauspostEncoder(level, out);
      ADD_FAILURE() << "level " << level << " accepted";
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), Error::Kind::kInvalidArgument);
    }
  }
}

TEST(KlauspostPgzip, SmallInputHasPgzipHeaderAndTrailer) {
  StringReader in("abc");
  StringWriter out;
  WriteKlauspostPgzip(in, out, 5);
  EXPECT_EQ(Hex(out.str()), "1f8b080000096e8800ff000300fcff616263000000ffff0300c241243503000000");
}

TEST(KlauspostPgzip, MultiBlockOutputIsOneGzipMember) {
  std::string input = Mixed(200000);
  for (int level : {1, 5, 9}) {
    StringReader in(input);
    StringWriter out;
    WriteKlauspostPgzip(in, out, level, 40000);
    EXPECT_EQ(static_cast<uint8_t>(out.str()[8]), level == 9 ? 2 : (level == 1 ? 4 : 0));
    EXPECT_EQ(Inflate(out.str(), 31), input) << "level " << level;
  }
}

TEST(KlauspostPgzip, BlockSizeNotAboveTailIsInvalidArgument) {
  StringReader in("abc");
  NullWriter out;
  EXPECT_THAT([&] { WriteKlauspostPgzip(in, out, 5, kPgzipTailSize); }, ThrowsKind(Error::Kind::kInvalidArgument));
}

}  // namespace
}  // namespace outpost::deflate
