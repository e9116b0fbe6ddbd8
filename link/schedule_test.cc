#include "link/schedule.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/support/matchers.h"

namespace outpost::link {
namespace {

using ::testing::HasSubstr;
using outpost::testing::ThrowsKind;

WallTime Utc(const char* text) { return ParseUtcTime(text); }

Window MakeWindow(std::string_view days, std::string_view start, std::string_view end, std::optional<uint64_t> rate = std::nullopt) {
  Window window;
  window.days = ParseDays(days);
  window.start_minute = ParseTimeOfDay(start);
  window.end_minute = ParseTimeOfDay(end);
  window.rate = rate;
  return window;
}

Schedule OfficeHours(const std::string& timezone) { return Schedule(timezone, {MakeWindow("mon-fri", "09:00", "17:00")}, 1000); }

TEST(ParseDays, ReadsNamesRangesListsAndDaily) {
  EXPECT_EQ(ParseDays("mon"), 0b0000001);
  EXPECT_EQ(ParseDays("mon-fri"), 0b0011111);
  EXPECT_EQ(ParseDays("sat,sun"), 0b1100000);
  EXPECT_EQ(ParseDays("mon,wed-fri"), 0b0011101);
  EXPECT_EQ(ParseDays("fri-mon"), 0b1110001);
  EXPECT_EQ(ParseDays("daily"), 0b1111111);
  EXPECT_THAT([] { ParseDays("monday"); }, ThrowsKind(Error::Kind::kInvalidArgument, HasSubstr("days `monday`")));
  EXPECT_THAT([] { ParseDays("mon,"); }, ThrowsKind(Error::Kind::kInvalidArgument));
}

TEST(ParseTimeOfDay, ReadsHoursAndMinutesUpTo2400) {
  EXPECT_EQ(ParseTimeOfDay("00:00"), 0);
  EXPECT_EQ(ParseTimeOfDay("09:30"), 570);
  EXPECT_EQ(ParseTimeOfDay("24:00"), 1440);
  for (const char* bad : {"24:01", "9:30", "09:60", "0930", "-1:00", "ab:cd"}) {
    EXPECT_THAT([&] { ParseTimeOfDay(bad); }, ThrowsKind(Error::Kind::kInvalidArgument, HasSubstr(bad)));
  }
}

TEST(Schedule, OfficeHoursInOsloFollowWinterTime) {
  Schedule oslo = OfficeHours("Europe/Oslo");  // CET, UTC+1
  EXPECT_EQ(oslo.RateAt(Utc("2026-12-07T08:30:00Z")), 1000u);  // Monday 09:30 local
  EXPECT_EQ(oslo.RateAt(Utc("2026-12-07T07:59:59Z")), 0u);     // 08:59:59 local
  EXPECT_EQ(oslo.RateAt(Utc("2026-12-07T15:59:00Z")), 1000u);  // 16:59 local
  EXPECT_EQ(oslo.RateAt(Utc("2026-12-07T16:30:00Z")), 0u);     // 17:30 local
  EXPECT_EQ(oslo.RateAt(Utc("2026-12-12T10:00:00Z")), 0u);     // Saturday
}

TEST(Schedule, OfficeHoursInOsloFollowSummerTime) {
  Schedule oslo = OfficeHours("Europe/Oslo");  // CEST, UTC+2
  EXPECT_EQ(oslo.RateAt(Utc("2026-06-01T07:00:00Z")), 1000u);  // Monday 09:00 local
  EXPECT_EQ(oslo.RateAt(Utc("2026-06-01T06:59:00Z")), 0u);
  EXPECT_EQ(oslo.RateAt(Utc("2026-06-01T15:00:00Z")), 0u);     // 17:00 local
}

TEST(Schedule, OfficeHoursInNewYorkFollowDaylightSaving) {
  Schedule new_york = OfficeHours("America/New_York");
  EXPECT_EQ(new_york.RateAt(Utc("2026-06-01T13:00:00Z")), 1000u);  // EDT, UTC-4: 09:00
  EXPECT_EQ(new_york.RateAt(Utc("2026-06-01T12:59:00Z")), 0u);
  EXPECT_EQ(new_york.RateAt(Utc("2026-11-02T14:00:00Z")), 1000u);  // EST, UTC-5: 09:00
  EXPECT_EQ(new_york.RateAt(Utc("2026-11-02T13:30:00Z")), 0u);
}

TEST(Schedule, AWindowPastMidnightBelongsToItsStartDay) {
  Schedule night("Europe/Oslo", {MakeWindow("fri", "22:00", "06:00")}, 500);
  EXPECT_EQ(night.RateAt(Utc("2026-12-11T21:00:00Z")), 500u);  // Friday 22:00 local
  EXPECT_EQ(night.RateAt(Utc("2026-12-12T02:00:00Z")), 500u);  // Saturday 03:00 local
  EXPECT_EQ(night.RateAt(Utc("2026-12-12T05:00:00Z")), 0u);    // Saturday 06:00 local
  EXPECT_EQ(night.RateAt(Utc("2026-12-11T20:59:00Z")), 0u);    // Friday 21:59 local
  EXPECT_EQ(night.RateAt(Utc("2026-12-11T02:00:00Z")), 0u);    // Friday 03:00: Thursday has no window
  EXPECT_EQ(night.RateAt(Utc("2026-12-12T22:00:00Z")), 0u);    // Saturday 23:00
}

TEST(Schedule, NextOpenFromFridayEveningIsMondayMorning) {
  Schedule oslo = OfficeHours("Europe/Oslo");
  EXPECT_EQ(oslo.NextOpen(Utc("2026-12-11T18:00:00Z")), Utc("2026-12-14T08:00:00Z"));  // Monday 09:00 CET
  EXPECT_EQ(oslo.NextOpen(Utc("2026-12-07T10:00:00Z")), Utc("2026-12-07T10:00:00Z"));  // open already
}

TEST(Schedule, NextOpenAcrossTheSpringChangeIsNineLocal) {
  Schedule oslo = OfficeHours("Europe/Oslo");
  // Clocks go forward on Sunday 2026-03-29; Monday 09:00 is then CEST, 07:00 UTC.
  EXPECT_EQ(oslo.NextOpen(Utc("2026-03-27T18:00:00Z")), Utc("2026-03-30T07:00:00Z"));
}

TEST(Schedule, NextChangeIsTheNextWindowEdge) {
  Schedule oslo = OfficeHours("Europe/Oslo");
  EXPECT_EQ(oslo.NextChange(Utc("2026-12-07T08:30:00Z")), Utc("2026-12-07T16:00:00Z"));
  EXPECT_EQ(oslo.NextChange(Utc("2026-12-07T16:00:00Z")), Utc("2026-12-08T08:00:00Z"));
  EXPECT_EQ(oslo.NextChange(Utc("2026-12-07T07:59:30Z")), Utc("2026-12-07T08:00:00Z"));
}

TEST(Schedule, AWindowEdgeInTheSkippedHourFallsOnTheChange) {
  // 02:30 does not exist in Oslo on 2026-03-29: at 01:00 UTC 02:00 CET becomes 03:00 CEST.
  Schedule oslo("Europe/Oslo", {MakeWindow("sun", "02:30", "04:00")}, 1000);
  EXPECT_EQ(oslo.NextChange(Utc("2026-03-29T00:30:00Z")), Utc("2026-03-29T01:00:00Z"));
  EXPECT_EQ(oslo.RateAt(Utc("2026-03-29T01:00:00Z")), 1000u);
  EXPECT_EQ(oslo.NextChange(Utc("2026-03-29T01:00:00Z")), Utc("2026-03-29T02:00:00Z"));  // 04:00 CEST
}

TEST(Schedule, OverlappingWindowsGiveTheHighestRate) {
  Schedule schedule("UTC", {MakeWindow("daily", "00:00", "24:00", 100), MakeWindow("sat,sun", "00:00", "24:00")}, 5000);
  EXPECT_EQ(schedule.RateAt(Utc("2026-12-07T12:00:00Z")), 100u);
  EXPECT_EQ(schedule.RateAt(Utc("2026-12-12T12:00:00Z")), 5000u);
}

TEST(Schedule, FinishTimeFillsWindowsAndSkipsTheNightsBetween) {
  Schedule oslo = OfficeHours("Europe/Oslo");  // 1000 B/s, 8 h a weekday: 28,800,000 B a day
  EXPECT_EQ(oslo.FinishTime(0, Utc("2026-12-07T10:00:00Z")), Utc("2026-12-07T10:00:00Z"));
  EXPECT_EQ(oslo.FinishTime(60'000, Utc("2026-12-07T10:00:00Z")), Utc("2026-12-07T10:01:00Z"));
  // Monday 15:00 local: two hours left today, the rest from Tuesday's opening.
  EXPECT_EQ(oslo.FinishTime(7'200'000 + 3'600'000, Utc("2026-12-07T14:00:00Z")), Utc("2026-12-08T09:00:00Z"));
  // Friday evening: nothing moves before Monday.
  EXPECT_EQ(oslo.FinishTime(1'000, Utc("2026-12-11T18:00:00Z")), Utc("2026-12-14T08:00:01Z"));
  EXPECT_EQ(oslo.FinishTime(1'000'000'000'000, Utc("2026-12-07T10:00:00Z")), std::nullopt);
  Schedule always("", {}, kUnlimitedRate);
  EXPECT_EQ(always.FinishTime(1'000'000'000'000, Utc("2026-12-07T10:00:00Z")), Utc("2026-12-07T10:00:00Z"));
}

TEST(Schedule, WithoutWindowsIsAlwaysOpenAtTheSiteRate) {
  Schedule always("", {}, kUnlimitedRate);
  EXPECT_EQ(always.timezone(), "UTC");
  EXPECT_EQ(always.RateAt(Utc("2026-12-07T03:00:00Z")), kUnlimitedRate);
  EXPECT_EQ(always.NextChange(Utc("2026-12-07T03:00:00Z")), Utc("2026-12-15T03:00:00Z"));
}

TEST(Schedule, RefusesAnUnknownTimezoneNamingIt) {
  EXPECT_THAT([] { Schedule("Europe/Atlantis", {}, 1); }, ThrowsKind(Error::Kind::kInvalidArgument, HasSubstr("Europe/Atlantis")));
}

}  // namespace
}  // namespace outpost::link
