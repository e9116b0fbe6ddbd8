// Sync windows: when a site's link may carry payload, and at what rate.
//
// A window is a set of weekdays and a time of day range in the site's timezone (an IANA name,
// "Europe/Oslo", read from the system's tzdata, so daylight saving moves with the law). A window
// whose end is not after its start runs past midnight into the next day (22:00-06:00 on fri
// is open friday 22:00 to saturday 06:00). "24:00" is the end of the day.
#pragma once

#include <chrono>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "link/clock.h"

namespace outpost::link {

// No cap: the rate of a site or window without one.
inline constexpr uint64_t kUnlimitedRate = std::numeric_limits<uint64_t>::max();

struct Window {
  uint8_t days = 0;        // bit 0 = Monday ... bit 6 = Sunday
  int start_minute = 0;    // minutes after local midnight, 0..1439
  int end_minute = 0;      // 1..1440; <= start_minute: runs into the next day
  std::optional<uint64_t> rate;  // bytes per second; unset: the site's rate
};

// "mon-fri", "sat,sun", "mon,wed-fri", "daily". Throws InvalidArgument naming the text.
uint8_t ParseDays(std::string_view text);
// "HH:MM" (00:00..24:00) to minutes after midnight. Throws InvalidArgument naming the text.
int ParseTimeOfDay(std::string_view text);

// A site's windows in its timezone. Immutable, thread-safe.
class Schedule {
 public:
  // `timezone`: an IANA name ("UTC" when empty); `site_rate`: the rate inside a window that has
  // none of its own (kUnlimitedRate: no cap). No windows: always open at `site_rate`.
  // Throws InvalidArgument for an unknown timezone, naming it.
  Schedule(std::string timezone, std::vector<Window> windows, uint64_t site_rate);

  // The rate allowed at `t`: 0 when no window is open (the highest rate when windows overlap).
  uint64_t RateAt(WallTime t) const;
  // The first instant after `t` at which RateAt may change (at most 8 days ahead; for an
  // always-open schedule, t + 8 days).
  WallTime NextChange(WallTime t) const;
  // When the next window opens, if none is open at `t` (t itself when one is open); t + 8 days
  // when none opens before then.
  WallTime NextOpen(WallTime t) const;

  // When `bytes` sent from `t` on, at every moment's RateAt, would all be through: `t` itself
  // for 0 bytes or an uncapped open window. nullopt when that is more than `horizon` away.
  std::optional<WallTime> FinishTime(uint64_t bytes, WallTime t,
                                     std::chrono::hours horizon = std::chrono::hours(24 * 366)) const;

  const std::string& timezone() const { return timezone_; }
  const std::vector<Window>& windows() const { return windows_; }

 private:
  std::string timezone_;
  const void* zone_ = nullptr;  // date::time_zone, owned by the tz database
  std::vector<Window> windows_;
  uint64_t site_rate_;
};

}  // namespace outpost::link
