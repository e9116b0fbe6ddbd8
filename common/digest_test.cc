#include "common/digest.h"

#include <gtest/gtest.h>

#include "common/error.h"
#include "tests/support/matchers.h"

namespace outpost {
namespace {

using outpost::testing::ThrowsKind;

TEST(Digest, OfEmptyStringIsTheWellKnownValue) {
  EXPECT_EQ(Digest::Of("").str(),
            "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST(Digest, ParseRoundTripsItsOwnString) {
  Digest d = Digest::Of("abc");
  EXPECT_EQ(Digest::Parse(d.str()), d);
}

TEST(Digest, ParseRejectsUpperCaseOtherAlgorithmsAndWrongLengths) {
  std::string good = Digest::Of("x").str();
  std::string upper = good;
  upper[10] = 'A';
  EXPECT_THAT([&] { Digest::Parse(upper); }, ThrowsKind(Error::Kind::kInvalidArgument));
  EXPECT_THAT([&] { Digest::Parse("sha512:" + good.substr(7)); }, ThrowsKind(Error::Kind::kInvalidArgument));
  EXPECT_THAT([&] { Digest::Parse(good.substr(0, good.size() - 1)); }, ThrowsKind(Error::Kind::kInvalidArgument));
  EXPECT_FALSE(Digest::IsValid("sha256:"));
}

TEST(Sha256, StreamingEqualsOneShot) {
  Sha256 h;
  h.Update("hello ");
  h.Update("world");
  EXPECT_EQ(h.Finish(), Digest::Of("hello world"));
}

}  // namespace
}  // namespace outpost
