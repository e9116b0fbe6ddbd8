#include "hub/pacing.h"

#include <gtest/gtest.h>

#include "link/schedule.h"

namespace outpost::hub {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

TEST(SliceBytes, IsATwentiethOfTheRateBetweenOneAndSixtyFourKiB) {
  EXPECT_EQ(SliceBytes(32'000), 1600u);
  EXPECT_EQ(SliceBytes(1000), 1024u);
  EXPECT_EQ(SliceBytes(100'000'000), 65536u);
  EXPECT_EQ(SliceBytes(link::kUnlimitedRate), 65536u);
}

TEST(BurstBytes, IsOneSecondOfRateAndAtLeastSixteenKiB) {
  EXPECT_EQ(BurstBytes(32'000), 32'000u);
  EXPECT_EQ(BurstBytes(8'000), 16'384u);
}

TEST(GrantBytes, GivesWhatWasAskedWhenItFitsInThirtySecondsAndTheWindow) {
  EXPECT_EQ(GrantBytes(100'000, 32'000, seconds(60)), 100'000u);
}

TEST(GrantBytes, CoversAtMostThirtySecondsOfTheRate) {
  EXPECT_EQ(GrantBytes(10'000'000, 32'000, seconds(3600)), 960'000u);
}

TEST(GrantBytes, NeverReachesPastTheWindowsEnd) {
  EXPECT_EQ(GrantBytes(10'000'000, 32'000, milliseconds(2500)), 80'000u);
  EXPECT_EQ(GrantBytes(10'000'000, 32'000, milliseconds(0)), 0u);
}

TEST(GrantBytes, GivesEverythingAskedWhenTheRateIsUnlimited) {
  EXPECT_EQ(GrantBytes(1ull << 40, link::kUnlimitedRate, seconds(1)), 1ull << 40);
}

TEST(GrantBytes, DoesNotOverflowAtHugeRates) {
  EXPECT_EQ(GrantBytes(5, link::kUnlimitedRate - 1, seconds(86400 * 8)), 5u);
}

TEST(RetryAfterSeconds, RoundsUpAndStaysWithinOneSecondAndADay) {
  EXPECT_EQ(RetryAfterSeconds(milliseconds(1500)), 2u);
  EXPECT_EQ(RetryAfterSeconds(milliseconds(0)), 1u);
  EXPECT_EQ(RetryAfterSeconds(seconds(86400 * 3)), 86400u);
}

}  // namespace
}  // namespace outpost::hub
