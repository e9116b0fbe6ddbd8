#include "compress/zstd.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <zstd.h>

#include "common/error.h"
#include "tests/support/matchers.h"

namespace outpost::compress {
namespace {

using outpost::testing::ThrowsKind;
using ::testing::HasSubstr;

std::string Text(size_t n) {
  std::string s;
  for (size_t i = 0; s.size() < n; ++i) s += "line " + std::to_string(i % 977) + " of a layer file\n";
  s.resize(n);
  return s;
}

std::string Stream(std::string_view data, const ZstdParams& params) {
  StringWriter sink;
  ZstdWriter z(sink, params);
  z.Write(data);
  z.Finish();
  return sink.str();
}

std::string ReadAllOf(const std::string& frame, ZstdReadOptions options = {}) {
  StringReader in(frame);
  ZstdReader r(in, "test frame", options);
  return ReadAll(r, 1 << 30);
}

TEST(ZstdTest, StreamedAndOneShotFramesDeclareTheirSizeAndDecode) {
  // Not always the same bytes: at a block boundary the streamed frame ends with an empty last
  // block where the one-shot frame marks its last full block. Callers keep their way of making
  // frames so their bytes stay as they were.
  std::string data = Text(3 << 20);
  std::string streamed = Stream(data, ZstdParams{.level = 9, .checksum = true, .size = data.size()});
  std::string once = ZstdCompress(data, ZstdParams{.level = 9, .checksum = true});
  for (const std::string& frame : {streamed, once}) {
    EXPECT_EQ(ZstdDeclaredSize(frame), data.size());
    EXPECT_EQ(ZstdFrameLength(frame + "tail"), frame.size());
    EXPECT_EQ(ReadAllOf(frame, {.one_frame = true}), data);
  }
  EXPECT_EQ(ZstdDeclaredSize("not zstd"), std::nullopt);
}

TEST(ZstdTest, HeldBackStreamDeclaresItsSizeAndLongerOneDoesNot) {
  ZstdParams p{.level = 3, .checksum = true, .window_log = 24, .hold_back = 1 << 20};
  std::string small = Stream(Text(1000), p), large = Stream(Text(2 << 20), p);
  EXPECT_EQ(ZSTD_getFrameContentSize(small.data(), small.size()), 1000u);
  EXPECT_EQ(ZSTD_getFrameContentSize(large.data(), large.size()), ZSTD_CONTENTSIZE_UNKNOWN);
  EXPECT_EQ(ReadAllOf(large, {.one_frame = true}), Text(2 << 20));
}

TEST(ZstdTest, ParameterZstdRefusesIsInvalidArgumentNamingIt) {
  StringWriter sink;
  EXPECT_THAT([&] { ZstdWriter z(sink, ZstdParams{.window_log = 40}); },
              ThrowsKind(Error::Kind::kInvalidArgument, HasSubstr("window log=40")));
  EXPECT_THAT([&] { ZstdCompress("x", ZstdParams{.chain_log = 99}); },
              ThrowsKind(Error::Kind::kInvalidArgument, HasSubstr("chain log=99")));
}

TEST(ZstdTest, WritingOtherThanThePledgedSizeIsInvalidArgument) {
  EXPECT_THAT([&] { Stream("four", ZstdParams{.size = 5}); }, ThrowsKind(Error::Kind::kInvalidArgument));
}

TEST(ZstdTest, OneFrameReaderRejectsEmptyTruncatedAndTrailingInput) {
  std::string frame = ZstdCompress(Text(100000), {});
  EXPECT_THAT([&] { ReadAllOf("", {.one_frame = true}); },
              ThrowsKind(Error::Kind::kCorruption, HasSubstr("test frame: zstd data is truncated")));
  EXPECT_THAT([&] { ReadAllOf(frame.substr(0, frame.size() - 1), {.one_frame = true}); },
              ThrowsKind(Error::Kind::kCorruption));
  EXPECT_THAT([&] { ReadAllOf(frame + "x", {.one_frame = true}); },
              ThrowsKind(Error::Kind::kCorruption, HasSubstr("continues after its frame")));
  EXPECT_EQ(ReadAllOf(""), "");  // a multi-frame stream may hold no frame
  EXPECT_EQ(ReadAllOf(frame + frame), Text(100000) + Text(100000));
}

TEST(ZstdTest, FrameWindowBeyondTheBoundIsUnsupported) {
  std::string data = Text(5 << 20);
  std::string frame = Stream(data, ZstdParams{.level = 1, .window_log = 23, .hold_back = 0});
  EXPECT_THAT([&] { ReadAllOf(frame, {.max_window_log = 20}); },
              ThrowsKind(Error::Kind::kUnsupported, HasSubstr("larger than 1 MiB")));
}

TEST(ZstdTest, PrefixFrameNeedsItsPrefixAndItsSize) {
  std::string base = Text(200000), target = base + "one new line\n";
  std::string frame = ZstdCompress(target, ZstdParams{.level = 19, .window_log = 18, .long_distance = true}, base);
  EXPECT_LT(frame.size(), 100u);
  EXPECT_EQ(ZstdDecompress(frame, base, target.size(), "file"), target);
  EXPECT_THAT([&] { ZstdDecompress(frame, base, target.size() + 1, "file"); },
              ThrowsKind(Error::Kind::kCorruption, HasSubstr("file: zstd frame has the wrong size")));
  EXPECT_THAT([&] { ZstdDecompress(frame, "", target.size(), "file"); }, ThrowsKind(Error::Kind::kCorruption));
}

}  // namespace
}  // namespace outpost::compress
