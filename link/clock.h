// The wall clock the daemons read for sync windows, injectable for tests.
//
// Production uses the system clock. Tests set OUTPOST_TEST_CLOCK=START[:SPEED] in a daemon's
// environment: START is an ISO 8601 UTC time ("2026-12-07T08:59:50Z") that the clock reads at
// process start, and SPEED (default 1) how many clock seconds pass per real second. Only the
// wall time (windows, "when does the next window open") is scaled; timeouts and rates stay in
// real time, and a test shortens those through the config (stall_timeout, backoff_max).
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

namespace outpost::link {

using WallTime = std::chrono::system_clock::time_point;

class Clock {
 public:
  virtual ~Clock() = default;
  // The current wall time. Thread-safe.
  virtual WallTime Now() const = 0;
  // Real time that passes while this clock advances by `d` (d / speed). Thread-safe.
  virtual std::chrono::milliseconds RealDuration(std::chrono::milliseconds d) const = 0;
};

// The system clock.
std::unique_ptr<Clock> SystemClock();
// A clock that reads `start` now and advances `speed` times faster than real time.
std::unique_ptr<Clock> ScaledClock(WallTime start, double speed);
// ScaledClock from OUTPOST_TEST_CLOCK when it is set, else SystemClock(). Throws
// InvalidArgument naming the variable when its value is malformed.
std::unique_ptr<Clock> ClockFromEnvironment();
// Parses "2026-12-07T08:59:50Z" (UTC, seconds precision). Throws InvalidArgument.
WallTime ParseUtcTime(std::string_view text);
// `t` in UTC through strftime's `format` ("2026-12-07T08:59:50Z" by default).
std::string FormatUtcTime(WallTime t, const char* format = "%Y-%m-%dT%H:%M:%SZ");

}  // namespace outpost::link
