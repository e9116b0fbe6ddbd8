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

TEST(LinkBytes, CountsTheTlsFramingOfEverySliceTheHubWritesBesideTheBundle) {
  // At 32000 B/s the hub writes 1600-byte slices: 100 records for 160000 bytes.
  const uint64_t overhead = LinkBytes(160'000, 32'000) - 160'000;
  EXPECT_GE(overhead, 100 * kTlsRecordOverhead);
  EXPECT_LT(overhead, 100 * kTlsRecordOverhead + 2048);  // plus the exchange's few headers
  // Unlimited, 64 KiB slices of four 16 KiB records each: the framing is far smaller.
  EXPECT_LT(LinkBytes(160'000, link::kUnlimitedRate), LinkBytes(160'000, 32'000) - 80 * kTlsRecordOverhead);
}

TEST(LinkBytes, CountsTheHeadersOfOneMorePayloadResponseForEachThirtySecondsOfLinkTime) {
  const uint64_t thirty_seconds = 30 * 32'000;
  const uint64_t one_response = LinkBytes(thirty_seconds, 32'000);
  const uint64_t two_responses = LinkBytes(thirty_seconds + 1, 32'000);
  EXPECT_GT(two_responses - one_response, 1 + 2 * kTlsRecordOverhead);  // a header, an ack, their records
}

TEST(LinkBytes, OfAnEmptyBundleIsTheExchangeAlone) {
  EXPECT_GT(LinkBytes(0, 32'000), 0u);
  EXPECT_LT(LinkBytes(0, 32'000), 1024u);
}

}  // namespace
}  // namespace outpost::hub
