#include "link/token_bucket.h"

#include <gtest/gtest.h>

#include "link/schedule.h"

namespace outpost::link {
namespace {

using namespace std::chrono_literals;
using Time = TokenBucket::Time;

TEST(TokenBucket, SendsAFullBurstAtOnce) {
  TokenBucket bucket(1000, 1000);
  EXPECT_EQ(bucket.Reserve(1000, std::chrono::steady_clock::now()), 0ns);
}

TEST(TokenBucket, WaitsWhenTheBurstIsSpent) {
  TokenBucket bucket(1000, 1000);
  Time now = std::chrono::steady_clock::now();
  bucket.Reserve(1000, now);
  EXPECT_EQ(bucket.Reserve(500, now), 500ms);
  EXPECT_EQ(bucket.Reserve(500, now), 1000ms);  // the debt of the first waiter counts
}

TEST(TokenBucket, AverageRateHoldsOverManyReservations) {
  TokenBucket bucket(10000, 1000);
  Time start = std::chrono::steady_clock::now();
  Time now = start;
  for (int i = 0; i < 1000; ++i) now += bucket.Reserve(100, now);
  // 100 000 bytes at 10 000 B/s, the first 1000 from the burst: 9.9 s.
  double seconds = std::chrono::duration<double>(now - start).count();
  EXPECT_NEAR(seconds, 9.9, 0.01);
}

TEST(TokenBucket, SendersSharingTheBucketTogetherStayUnderTheRate) {
  TokenBucket bucket(10000, 1000);
  Time start = std::chrono::steady_clock::now();
  Time a = start, b = start;
  for (int i = 0; i < 500; ++i) {
    a += bucket.Reserve(100, a);
    b += bucket.Reserve(100, b);
  }
  EXPECT_GE(std::chrono::duration<double>(std::max(a, b) - start).count(), 9.89);
}

TEST(TokenBucket, RefillsOnlyUpToTheBurstAfterIdling) {
  TokenBucket bucket(1000, 1000);
  Time now = std::chrono::steady_clock::now();
  bucket.Reserve(1000, now);
  EXPECT_EQ(bucket.Reserve(2000, now + 100s), 1000ms);
}

TEST(TokenBucket, UnlimitedNeverWaits) {
  TokenBucket bucket(kUnlimitedRate, 1000);
  EXPECT_EQ(bucket.Reserve(uint64_t{1} << 40, std::chrono::steady_clock::now()), 0ns);
}

TEST(TokenBucket, SetRateKeepsTheLevel) {
  TokenBucket bucket(1000, 1000);
  Time now = std::chrono::steady_clock::now();
  bucket.Reserve(1000, now);
  bucket.SetRate(2000, 2000);
  EXPECT_EQ(bucket.rate(), 2000u);
  EXPECT_EQ(bucket.Reserve(1000, now), 500ms);
}

TEST(TokenBucket, RateZeroTakesNothingAndAsksToLookAgain) {
  TokenBucket bucket(0, 1000);
  Time now = std::chrono::steady_clock::now();
  EXPECT_EQ(bucket.Reserve(100, now), 1s);
  bucket.SetRate(1000, 1000);
  EXPECT_EQ(bucket.Reserve(1000, now), 0ns);
}

}  // namespace
}  // namespace outpost::link
