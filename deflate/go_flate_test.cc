#include "deflate/go_flate.h"

#include <gtest/gtest.h>

#include "common/error.h"

namespace outpost::deflate {
namespace {

TEST(GoFlate, UnsupportedLevelIsInvalidArgument) {
  NullWriter out;
  EXPECT_THROW(NewGoEncoder(10, out), Error);
  EXPECT_THROW(NewGoEncoder(-3, out), Error);
}

}  // namespace
}  // namespace outpost::deflate
