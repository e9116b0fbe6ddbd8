#include "link/backoff.h"

#include <gtest/gtest.h>

#include <set>

namespace outpost::link {
namespace {

using namespace std::chrono_literals;

TEST(Backoff, GrowsUntilTheCapWithEachDelayInTheUpperHalf) {
  for (uint64_t seed = 0; seed < 20; ++seed) {
    Backoff backoff(100ms, 1600ms, seed);
    std::chrono::milliseconds d = 100ms;
    for (int i = 0; i < 10; ++i) {
      std::chrono::milliseconds delay = backoff.Next();
      EXPECT_GE(delay, d / 2);
      EXPECT_LE(delay, d);
      d = std::min(d * 2, std::chrono::milliseconds(1600));
    }
  }
}

TEST(Backoff, ResetStartsAgainFromTheInitialDelay) {
  Backoff backoff(100ms, 10s, 1);
  for (int i = 0; i < 8; ++i) backoff.Next();
  backoff.Reset();
  EXPECT_LE(backoff.Next(), 100ms);
}

TEST(Backoff, JitterSpreadsAFleet) {
  std::set<int64_t> delays;
  for (uint64_t seed = 0; seed < 20; ++seed) delays.insert(Backoff(10s, 10s, seed).Next().count());
  EXPECT_GT(delays.size(), 15u);
}

}  // namespace
}  // namespace outpost::link
