#include "common/digest.h"

#include <gtest/gtest.h>

#include "common/error.h"

namespace outpost {
namespace {

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
  EXPECT_THROW(Digest::Parse(upper), Error);
  EXPECT_THROW(Digest::Parse("sha512:" + good.substr(7)), Error);
  EXPECT_THROW(Digest::Parse(good.substr(0, good.size() - 1)), Error);
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
