// Bounds and messages of the delta applier (applier.cc) against hostile deltas it is given.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/error.h"
#include "delta/layer_delta.h"
#include "delta/test_util.h"
#include "delta/varint.h"
#include "tests/support/matchers.h"

namespace outpost::delta {
namespace {

using outpost::testing::ThrowsKind;
using ::testing::HasSubstr;
using std::string_literals::operator""s;
using testing::DeltaContainer;
using testing::RandomBytes;
using testing::StringRandomAccess;

constexpr uint8_t kRaw = 2;

// A raw delta (version 1: ops inline) that copies all of `base` `times` times: a few bytes per
// copy, for `times` x base.size() bytes of output. END claims what the copies would make.
std::string RepeatedCopies(const std::string& base, size_t times) {
  std::string ops;
  for (size_t i = 0; i < times; ++i) {
    ops += '\x02';
    PutSignedVarint(&ops, i == 0 ? 0 : -static_cast<int64_t>(base.size()));
    PutVarint(&ops, base.size());
  }
  ops += '\x00';
  PutVarint(&ops, base.size() * times);
  PutDigest(&ops, Digest::Of(""));
  return DeltaContainer(base, ops, 1, kRaw);
}

// Defect 12.3: a 2 KB delta of repeated copy ops would push 1 GiB through the output; it stops
// at the declared size, before the op that would pass it writes anything.
TEST(DeltaApplier, RepeatedCopiesStopAtTheDeclaredTargetSize) {
  std::string base = RandomBytes(1 << 20, 7);
  std::string delta = RepeatedCopies(base, 1024);
  EXPECT_LT(delta.size(), 8u << 10);
  StringRandomAccess base_ra(base);
  StringReader in(delta);
  NullWriter out;
  constexpr uint64_t kDeclared = 5ull << 20;
  EXPECT_THAT([&] { ApplyRawDelta(base_ra, in, out, std::nullopt, kDeclared); },
              ThrowsKind(Error::Kind::kCorruption, HasSubstr("declared 5242880 bytes")));
  EXPECT_EQ(out.count(), 5u << 20);  // five whole copies fit; the sixth is refused before writing
}

TEST(DeltaApplier, OutputExactlyAtTheDeclaredSizeApplies) {
  std::string base = RandomBytes(1000, 8);
  std::string target = base + base;
  std::string ops = "\x02\x00"s;
  PutVarint(&ops, 1000);
  ops += '\x02';
  PutSignedVarint(&ops, -1000);
  PutVarint(&ops, 1000);
  ops += '\x00';
  PutVarint(&ops, target.size());
  PutDigest(&ops, Digest::Of(target));
  StringRandomAccess base_ra(base);
  StringReader in(DeltaContainer(base, ops, 1, kRaw));
  StringWriter out;
  ApplyRawDelta(base_ra, in, out, std::nullopt, target.size());
  EXPECT_EQ(out.str(), target);
}

// Defect 12.12: an unknown kind is named as such, not as the other known kind.
TEST(DeltaApplier, UnknownDeltaKindIsNamedWithItsNumber) {
  std::string base = RandomBytes(100, 9);
  StringRandomAccess base_ra(base);
  StringReader in(DeltaContainer(base, "\x00", 2, 7));
  NullWriter out;
  EXPECT_THAT([&] { ApplyLayerDelta(base_ra, in, out); },
              ThrowsKind(Error::Kind::kCorruption, HasSubstr("unknown kind 7")));
  StringReader raw(DeltaContainer(base, "\x00", 2, kRaw));
  EXPECT_THAT([&] { ApplyLayerDelta(base_ra, raw, out); },
              ThrowsKind(Error::Kind::kCorruption, HasSubstr("a raw delta was given")));
}

}  // namespace
}  // namespace outpost::delta
