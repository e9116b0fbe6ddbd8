#include "delta/bsdiff.h"

#include <gtest/gtest.h>

#include "common/error.h"
#include "delta/test_util.h"
#include "delta/varint.h"
#include "delta/zstd_util.h"
#include "tests/support/matchers.h"

namespace outpost::delta {
namespace {

using outpost::testing::ThrowsKind;
using testing::RandomBytes;

TEST(Bsdiff, RoundTripsEditsInsertionsAndDeletions) {
  std::string base = RandomBytes(50000, 11);
  std::string target = base;
  target.insert(1234, "new bytes here");
  target.erase(30000, 777);
  for (size_t i = 0; i < target.size(); i += 997) target[i] = static_cast<char>(target[i] + 3);
  std::string payload = BsdiffEncode(base, target, 3);
  EXPECT_EQ(BsdiffApply(base, payload, target.size()), target);
  EXPECT_LT(payload.size(), 2000u);
}

TEST(Bsdiff, FindsEveryMovedBlockAmidBytesTheBaseNeverHeld) {
  // Blocks of the base in reverse order, each after bytes the base never held: every block is a
  // match to find, and only the new bytes are extra.
  std::string base = RandomBytes(256 << 10, 21);
  std::string target;
  size_t fresh = 0;
  for (size_t b = 64; b-- > 0;) {
    std::string noise = RandomBytes(100 + b, 1000 + b);
    fresh += noise.size();
    target += noise + base.substr(b * 4096, 4096);
  }
  BsdiffStreams streams = BsdiffDiff(base, target);
  EXPECT_LE(streams.extra.size(), fresh);
  EXPECT_EQ(BsdiffApply(base, BsdiffPack(streams, 3), target.size()), target);
}

TEST(Bsdiff, HandlesEmptyInputs) {
  EXPECT_EQ(BsdiffApply("", BsdiffEncode("", "abc", 3), 3), "abc");
  EXPECT_EQ(BsdiffApply("abc", BsdiffEncode("abc", "", 3), 0), "");
}

TEST(Bsdiff, BeatsZstdOnShiftedPointers) {
  // Code recompiled after an insertion: every 4-byte "pointer" moves by the same amount.
  std::string base, target;
  for (uint32_t i = 0; i < 20000; ++i) {
    uint32_t v = i * 2654435761u, w = v + 16;
    base.append(reinterpret_cast<const char*>(&v), 4);
    target.append(reinterpret_cast<const char*>(&w), 4);
  }
  std::string bsdiff = BsdiffEncode(base, target, 19);
  EXPECT_EQ(BsdiffApply(base, bsdiff, target.size()), target);
  EXPECT_LT(bsdiff.size(), CompressWithPrefix(target, base, 19).size());
}

TEST(Bsdiff, WrongSizeOrDamagedPayloadIsCorruption) {
  std::string base = RandomBytes(5000, 12), target = base + "tail";
  std::string payload = BsdiffEncode(base, target, 3);
  EXPECT_THAT([&] { BsdiffApply(base, payload, target.size() + 1); }, ThrowsKind(Error::Kind::kCorruption));
  EXPECT_THAT([&] { BsdiffApply(base, payload.substr(0, payload.size() / 2), target.size()); },
              ThrowsKind(Error::Kind::kCorruption));
}

TEST(Bsdiff, RawModeLeavesTheStreamsUncompressedAndRoundTrips) {
  std::string base = RandomBytes(3000, 13);
  std::string target = base;
  target.replace(1000, 20, "an edited line here!");
  std::string payload = BsdiffPackRaw(BsdiffDiff(base, target));
  EXPECT_EQ(payload[0], 1);
  EXPECT_GE(payload.size(), target.size());  // the differences and extra bytes as they are
  EXPECT_EQ(BsdiffApply(base, payload, target.size()), target);
  EXPECT_THAT([&] { BsdiffApply(base, payload, target.size() - 1); }, ThrowsKind(Error::Kind::kCorruption));
}

TEST(Bsdiff, ZstdModeLongZeroDifferencesStaySmall) {
  // One changed byte in 200000: the difference stream is two zero runs, a few bytes as runs.
  std::string base = RandomBytes(200000, 14), target = base;
  target[100000] = static_cast<char>(target[100000] + 1);
  std::string payload = BsdiffEncode(base, target, 19);
  EXPECT_EQ(payload[0], 0);
  EXPECT_EQ(BsdiffApply(base, payload, target.size()), target);
  EXPECT_LT(payload.size(), 100u);
}

// A mode-0 payload whose difference stream is `runs` (zero-run form), with one control triple
// covering `diff_len` bytes.
std::string PayloadWithRuns(const std::string& runs, uint64_t diff_len) {
  std::string control, out(1, '\0');
  PutVarint(&control, diff_len);
  PutVarint(&control, 0);
  PutSignedVarint(&control, 0);
  for (const std::string& stream : {control, runs}) {
    std::string frame = CompressWithPrefix(stream, {}, 3);
    PutVarint(&out, frame.size());
    out += frame;
  }
  return out + CompressWithPrefix("", {}, 3);
}

TEST(Bsdiff, DifferenceRunsBeyondTheTargetAreCorruption) {
  std::string base(100, 'a'), runs;
  PutVarint(&runs, 1000000);  // a million zeros for a 100-byte target
  PutVarint(&runs, 0);
  EXPECT_THAT([&] { BsdiffApply(base, PayloadWithRuns(runs, 100), 100); }, ThrowsKind(Error::Kind::kCorruption));
  std::string ok;
  PutVarint(&ok, 99);
  PutVarint(&ok, 1);
  ok += '\x01';
  std::string rebuilt = BsdiffApply(base, PayloadWithRuns(ok, 100), 100);
  EXPECT_EQ(rebuilt, std::string(99, 'a') + 'b');
  std::string cut = ok.substr(0, 2);  // says one byte follows, none does
  EXPECT_THAT([&] { BsdiffApply(base, PayloadWithRuns(cut, 100), 100); }, ThrowsKind(Error::Kind::kCorruption));
}

TEST(Bsdiff, UnknownModeOrEmptyPayloadIsCorruption) {
  std::string base = RandomBytes(1000, 15);
  std::string payload = BsdiffEncode(base, base + "x", 3);
  payload[0] = 7;
  EXPECT_THAT([&] { BsdiffApply(base, payload, base.size() + 1); }, ThrowsKind(Error::Kind::kCorruption));
  EXPECT_THAT([&] { BsdiffApply(base, "", 0); }, ThrowsKind(Error::Kind::kCorruption));
}

}  // namespace
}  // namespace outpost::delta
