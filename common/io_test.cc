#include "common/io.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/error.h"
#include "tests/support/matchers.h"

namespace outpost {
namespace {

using outpost::testing::ThrowsKind;

TEST(Io, CopyMovesEveryByteAndCountsThem) {
  std::string data(1 << 20, 'x');
  StringReader r(data);
  StringWriter w;
  EXPECT_EQ(Copy(r, w), data.size());
  EXPECT_EQ(w.str(), data);
}

TEST(Io, ReadFullThrowsCorruptionOnShortInput) {
  StringReader r("abc");
  uint8_t buf[4];
  try {
    ReadFull(r, buf, 4, "test header");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), Error::Kind::kCorruption);
    EXPECT_NE(std::string(e.what()).find("test header"), std::string::npos);
  }
}

TEST(Io, LimitedReaderStopsAtItsLimit) {
  StringReader r("abcdef");
  LimitedReader lim(r, 4);
  EXPECT_EQ(ReadAll(lim), "abcd");
}

TEST(Io, HashingWriterHashesWhatPassesThrough) {
  StringWriter inner;
  HashingWriter w(&inner);
  w.Write(std::string_view("payload"));
  EXPECT_EQ(w.count(), 7u);
  EXPECT_EQ(w.Finish(), Digest::Of("payload"));
  EXPECT_EQ(inner.str(), "payload");
}

TEST(Io, ReadAllRefusesDocumentsOverTheLimit) {
  StringReader r(std::string(100, 'a'));
  EXPECT_THAT([&] { ReadAll(r, 99); }, ThrowsKind(Error::Kind::kCorruption));
}

TEST(Io, ReadAllOverTheLimitNamesTheDocument) {
  StringReader r(std::string(100, 'a'));
  EXPECT_THAT([&] { ReadAll(r, 99, "config blob /srv/x"); },
              outpost::testing::ThrowsKind(Error::Kind::kCorruption,
                                           ::testing::HasSubstr("config blob /srv/x is larger than 99 bytes")));
}

}  // namespace
}  // namespace outpost
