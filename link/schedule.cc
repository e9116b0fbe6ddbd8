// Sync windows in a site's timezone (schedule.h).
#include "link/schedule.h"

#include <date/tz.h>

#include <algorithm>
#include <array>
#include <charconv>

#include "common/error.h"

namespace outpost::link {

namespace {

using LocalMinutes = date::local_time<std::chrono::minutes>;
constexpr std::array<std::string_view, 7> kDayNames = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};
constexpr auto kHorizon = std::chrono::hours(24 * 8);

const date::time_zone* Zone(const void* zone) { return static_cast<const date::time_zone*>(zone); }

// 0 = Monday .. 6 = Sunday, or -1.
int DayIndex(std::string_view name) {
  auto it = std::find(kDayNames.begin(), kDayNames.end(), name);
  return it == kDayNames.end() ? -1 : static_cast<int>(it - kDayNames.begin());
}

// Bit for the weekday of a local day (bit 0 = Monday).
uint8_t DayBit(date::local_days day) { return static_cast<uint8_t>(1u << (date::weekday(day).iso_encoding() - 1)); }

// Whether `window` is open at local minute `minute` of a day whose own bit is `today` and whose
// previous day's bit is `yesterday`.
bool OpenAt(const Window& window, uint8_t today, uint8_t yesterday, int minute) {
  bool today_open = (window.days & today) != 0;
  if (window.end_minute > window.start_minute) return today_open && minute >= window.start_minute && minute < window.end_minute;
  // Runs past midnight: the evening part belongs to today, the morning part to yesterday's window.
  return (today_open && minute >= window.start_minute) || ((window.days & yesterday) != 0 && minute < window.end_minute);
}

void Validate(const Window& window) {
  if (window.days == 0 || window.days > 0x7f || window.start_minute < 0 || window.start_minute > 1439 ||
      window.end_minute < 1 || window.end_minute > 1440) {
    throw InvalidArgument("window days ", std::to_string(window.days), " from minute ", std::to_string(window.start_minute),
                          " to ", std::to_string(window.end_minute), ": expected days 1..127 and minutes 0..1439 to 1..1440");
  }
}

}  // namespace

uint8_t ParseDays(std::string_view text) {
  if (text == "daily") return 0x7f;
  uint8_t days = 0;
  std::string_view rest = text;
  while (true) {
    size_t comma = rest.find(',');
    std::string_view item = rest.substr(0, comma);
    size_t dash = item.find('-');
    int first = DayIndex(item.substr(0, dash));
    int last = dash == std::string_view::npos ? first : DayIndex(item.substr(dash + 1));
    if (first < 0 || last < 0) {
      throw InvalidArgument("days `", std::string(text), "`: expected day names (mon tue wed thu fri sat sun), ranges ",
                            "(mon-fri) separated by commas, or daily");
    }
    for (int d = first;; d = (d + 1) % 7) {  // a range may wrap: fri-mon
      days |= static_cast<uint8_t>(1u << d);
      if (d == last) break;
    }
    if (comma == std::string_view::npos) return days;
    rest.remove_prefix(comma + 1);
  }
}

int ParseTimeOfDay(std::string_view text) {
  int hour = -1, minute = -1;
  bool shaped = text.size() == 5 && text[2] == ':' &&
                std::from_chars(text.data(), text.data() + 2, hour).ptr == text.data() + 2 &&
                std::from_chars(text.data() + 3, text.data() + 5, minute).ptr == text.data() + 5;
  if (!shaped || hour < 0 || minute < 0 || minute > 59 || hour > 24 || (hour == 24 && minute != 0)) {
    throw InvalidArgument("time of day `", std::string(text), "`: expected HH:MM from 00:00 to 24:00");
  }
  return hour * 60 + minute;
}

Schedule::Schedule(std::string timezone, std::vector<Window> windows, uint64_t site_rate)
    : timezone_(timezone.empty() ? "UTC" : std::move(timezone)), windows_(std::move(windows)), site_rate_(site_rate) {
  try {
    zone_ = date::locate_zone(timezone_);
  } catch (const std::runtime_error&) {
    throw InvalidArgument("timezone `", timezone_, "`: not in the system's tz database (an IANA name such as Europe/Oslo)");
  }
  for (const Window& window : windows_) Validate(window);
}

uint64_t Schedule::RateAt(WallTime t) const {
  if (windows_.empty()) return site_rate_;
  LocalMinutes local = date::floor<std::chrono::minutes>(Zone(zone_)->to_local(t));
  date::local_days day = date::floor<date::days>(local);
  int minute = static_cast<int>((local - day).count());
  uint8_t today = DayBit(day), yesterday = DayBit(day - date::days(1));
  uint64_t rate = 0;
  for (const Window& window : windows_) {
    if (OpenAt(window, today, yesterday, minute)) rate = std::max(rate, window.rate.value_or(site_rate_));
  }
  return rate;
}

WallTime Schedule::NextChange(WallTime t) const {
  const date::time_zone* zone = Zone(zone_);
  WallTime best = t + kHorizon;
  auto consider = [&](WallTime candidate) {
    if (candidate > t && candidate < best) best = candidate;
  };
  auto consider_local = [&](LocalMinutes local) {
    // A boundary in a skipped hour falls on the transition; one in a repeated hour happens twice.
    consider(zone->to_sys(local, date::choose::earliest));
    consider(zone->to_sys(local, date::choose::latest));
  };
  if (windows_.empty()) return best;
  date::local_days first = date::floor<date::days>(zone->to_local(t)) - date::days(1);
  for (date::local_days day = first; day <= first + date::days(9); day += date::days(1)) {
    for (const Window& window : windows_) {
      if ((window.days & DayBit(day)) == 0) continue;
      int end = window.end_minute > window.start_minute ? window.end_minute : window.end_minute + 1440;
      consider_local(day + std::chrono::minutes(window.start_minute));
      consider_local(day + std::chrono::minutes(end));
    }
  }
  // An offset change moves local time under the windows: the rate may change there too.
  // Compared in seconds: a zone without transitions (UTC) ends its info at sys_seconds::max,
  // which overflows when converted to the clock's nanoseconds.
  auto before_best = [&](date::sys_seconds end) { return end < std::chrono::floor<std::chrono::seconds>(best); };
  for (date::sys_info info = zone->get_info(t); before_best(info.end); info = zone->get_info(info.end)) consider(info.end);
  return best;
}

WallTime Schedule::NextOpen(WallTime t) const {
  WallTime limit = t + kHorizon;
  for (WallTime at = t; at < limit; at = NextChange(at)) {
    if (RateAt(at) > 0) return at;
  }
  return limit;
}

std::optional<WallTime> Schedule::FinishTime(uint64_t bytes, WallTime t, std::chrono::hours horizon) const {
  const WallTime limit = t + horizon;
  double left = static_cast<double>(bytes);
  for (WallTime at = t; at < limit; at = NextChange(at)) {
    const uint64_t rate = RateAt(at);
    if (left <= 0 || rate == kUnlimitedRate) return at;
    const double span = std::chrono::duration<double>(NextChange(at) - at).count();
    const double seconds = left / static_cast<double>(rate == 0 ? 1 : rate);
    if (rate > 0 && seconds <= span) {
      return at + std::chrono::duration_cast<WallTime::duration>(std::chrono::duration<double>(seconds));
    }
    if (rate > 0) left -= span * static_cast<double>(rate);
  }
  return std::nullopt;
}

}  // namespace outpost::link
