#include "common/async_io.h"

#include <gtest/gtest.h>

#include "common/error.h"

namespace outpost {
namespace {

std::string Pattern(size_t n) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>(i * 131 + i / 977);
  return s;
}

// Fails with Corruption after passing `good` bytes of its input.
class FailingReader : public Reader {
 public:
  FailingReader(std::string data, size_t good) : inner_(data.substr(0, good)) {}
  size_t Read(uint8_t* buf, size_t n) override {
    size_t got = inner_.Read(buf, n);
    if (got == 0) throw Corruption("test stream is cut");
    return got;
  }

 private:
  StringReader inner_;
};

class FailingWriter : public Writer {
 public:
  using Writer::Write;
  void Write(const uint8_t*, size_t) override { throw IOError("test disk is full"); }
};

TEST(ReadAhead, DeliversEveryByteInOrderAndObservesThemFirst) {
  std::string data = Pattern(3'000'001);
  StringReader inner(data);
  std::string observed;
  ReadAheadReader r(inner, [&](const uint8_t* d, size_t n) { observed.append(reinterpret_cast<const char*>(d), n); },
                    3, 4096);
  StringWriter out;
  EXPECT_EQ(Copy(r, out), data.size());
  EXPECT_EQ(out.str(), data);
  EXPECT_EQ(observed, data);
  EXPECT_TRUE(r.ReadView().empty());
}

TEST(ReadAhead, ReadViewHandsOutWholeChunks) {
  std::string data = Pattern(10'000);
  StringReader inner(data);
  ReadAheadReader r(inner, {}, 2, 4096);
  std::string got;
  for (auto v = r.ReadView(); !v.empty(); v = r.ReadView()) got.append(reinterpret_cast<const char*>(v.data()), v.size());
  EXPECT_EQ(got, data);
}

TEST(ReadAhead, InnerErrorIsRethrownAfterTheBytesBeforeIt) {
  std::string data = Pattern(100'000);
  FailingReader inner(data, 50'000);
  ReadAheadReader r(inner, {}, 2, 1000);
  StringWriter out;
  try {
    Copy(r, out);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), Error::Kind::kCorruption);
  }
  EXPECT_EQ(out.str(), data.substr(0, 50'000));
}

TEST(ReadAhead, DestroyingItEarlyStopsTheThread) {
  std::string data = Pattern(1'000'000);
  StringReader inner(data);
  ReadAheadReader r(inner, {}, 2, 1000);
  uint8_t b[10];
  EXPECT_EQ(r.Read(b, sizeof b), sizeof b);
}

TEST(ReadAhead, ReadsWhatAProducerWritesInOrder) {
  std::string data = Pattern(3 << 20);
  ReadAheadReader r(
      [&](Writer& w) {
        for (size_t at = 0; at < data.size(); at += 70001) w.Write(std::string_view(data).substr(at, 70001));
      },
      3, 64 << 10);
  EXPECT_EQ(ReadAll(r, 8 << 20), data);
}

TEST(ReadAhead, ProducerErrorIsRethrownAfterTheBytesBeforeIt) {
  ReadAheadReader r([](Writer& w) {
    w.Write("good bytes");
    throw Corruption("the delta is damaged");
  });
  uint8_t buf[64];
  EXPECT_EQ(ReadUpTo(r, buf, 10), 10u);
  try {
    ReadUpTo(r, buf, sizeof(buf));
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), Error::Kind::kCorruption);
  }
}

TEST(ReadAhead, DestroyingItEarlyStopsAnEndlessProducer) {
  {
    ReadAheadReader r(
        [](Writer& w) {
          for (;;) w.Write("forever ");
        },
        2, 4096);
    uint8_t buf[16];
    EXPECT_EQ(ReadUpTo(r, buf, sizeof(buf)), sizeof(buf));
  }
  SUCCEED();  // the destructor returned: the producer's Write threw and its thread ended
}

TEST(WriteBehind, WritesEveryByteInOrderByFinish) {
  std::string data = Pattern(2'000'003);
  StringWriter inner;
  WriteBehindWriter w(inner, 3, 4096);
  for (size_t i = 0; i < data.size(); i += 777) w.Write(std::string_view(data).substr(i, 777));
  w.Finish();
  EXPECT_EQ(inner.str(), data);
}

TEST(WriteBehind, InnerErrorReachesTheCaller) {
  FailingWriter inner;
  WriteBehindWriter w(inner, 2, 1000);
  std::string data = Pattern(10'000);
  try {
    for (int i = 0; i < 100; ++i) w.Write(data);
    w.Finish();
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), Error::Kind::kIO);
    EXPECT_NE(std::string(e.what()).find("disk is full"), std::string::npos);
  }
}

TEST(WriteBehind, DestroyingItWithoutFinishAbandonsTheRest) {
  StringWriter inner;
  {
    WriteBehindWriter w(inner, 2, 1000);
    w.Write(Pattern(5000));
  }
  EXPECT_LE(inner.str().size(), 5000u);
}

}  // namespace
}  // namespace outpost
