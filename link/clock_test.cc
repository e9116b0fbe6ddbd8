#include "link/clock.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <thread>

#include "tests/support/matchers.h"

namespace outpost::link {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;
using outpost::testing::ThrowsKind;

// Sets OUTPOST_TEST_CLOCK for one test.
class TestClockVariable {
 public:
  explicit TestClockVariable(const char* value) { ::setenv("OUTPOST_TEST_CLOCK", value, 1); }
  ~TestClockVariable() { ::unsetenv("OUTPOST_TEST_CLOCK"); }
};

TEST(ParseUtcTime, ReadsIsoUtcSeconds) {
  EXPECT_EQ(ParseUtcTime("1970-01-01T00:00:00Z"), WallTime{});
  EXPECT_EQ(ParseUtcTime("2026-12-07T08:59:50Z"), std::chrono::sys_days(std::chrono::year(2026) / 12 / 7) + 8h + 59min + 50s);
  for (const char* bad : {"2026-12-07 08:59:50Z", "2026-12-07T08:59:50", "2026-02-30T00:00:00Z", "2026-12-07T24:00:00Z", ""}) {
    EXPECT_THAT([&] { ParseUtcTime(bad); }, ThrowsKind(Error::Kind::kInvalidArgument, HasSubstr("expected UTC")));
  }
}

TEST(ScaledClock, StartsAtItsStartAndRunsFaster) {
  WallTime start = ParseUtcTime("2026-12-07T08:59:50Z");
  std::unique_ptr<Clock> clock = ScaledClock(start, 1000);
  EXPECT_GE(clock->Now(), start);
  EXPECT_LT(clock->Now(), start + 5s);
  std::this_thread::sleep_for(20ms);
  EXPECT_GE(clock->Now(), start + 20s);
  EXPECT_EQ(clock->RealDuration(10s), 10ms);
}

TEST(ClockFromEnvironment, ReadsStartAndSpeed) {
  TestClockVariable variable("2026-12-07T08:59:50Z:60");
  std::unique_ptr<Clock> clock = ClockFromEnvironment();
  EXPECT_LT(clock->Now() - ParseUtcTime("2026-12-07T08:59:50Z"), 60s);
  EXPECT_EQ(clock->RealDuration(60s), 1s);
}

TEST(ClockFromEnvironment, SpeedDefaultsToOne) {
  TestClockVariable variable("2026-12-07T08:59:50Z");
  EXPECT_EQ(ClockFromEnvironment()->RealDuration(60s), 60s);
}

TEST(ClockFromEnvironment, IsTheSystemClockWhenUnset) {
  ::unsetenv("OUTPOST_TEST_CLOCK");
  std::unique_ptr<Clock> clock = ClockFromEnvironment();
  EXPECT_LT(std::chrono::abs(clock->Now() - std::chrono::system_clock::now()), 1s);
  EXPECT_EQ(clock->RealDuration(5s), 5s);
}

TEST(ClockFromEnvironment, RefusesAMalformedValueNamingTheVariable) {
  for (const char* bad : {"tomorrow", "2026-12-07T08:59:50Z:fast", "2026-12-07T08:59:50Z:0", "2026-12-07T08:59:50Z60"}) {
    TestClockVariable variable(bad);
    EXPECT_THAT([] { ClockFromEnvironment(); }, ThrowsKind(Error::Kind::kInvalidArgument, HasSubstr("OUTPOST_TEST_CLOCK")));
  }
}

}  // namespace
}  // namespace outpost::link
