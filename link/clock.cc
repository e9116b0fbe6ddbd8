// Wall clocks: the system's, and a scaled one for tests (clock.h).
#include "link/clock.h"

#include <ctime>

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <string>

#include "common/error.h"

namespace outpost::link {

namespace {

class SystemWallClock : public Clock {
 public:
  WallTime Now() const override { return std::chrono::system_clock::now(); }
  std::chrono::milliseconds RealDuration(std::chrono::milliseconds d) const override { return d; }
};

class ScaledWallClock : public Clock {
 public:
  ScaledWallClock(WallTime start, double speed) : start_(start), origin_(std::chrono::steady_clock::now()), speed_(speed) {}

  WallTime Now() const override {
    std::chrono::duration<double> real = std::chrono::steady_clock::now() - origin_;
    return start_ + std::chrono::duration_cast<WallTime::duration>(real * speed_);
  }
  std::chrono::milliseconds RealDuration(std::chrono::milliseconds d) const override {
    return std::chrono::milliseconds(static_cast<int64_t>(std::ceil(static_cast<double>(d.count()) / speed_)));
  }

 private:
  WallTime start_;
  std::chrono::steady_clock::time_point origin_;
  double speed_;
};

// The digits text[pos, pos+n) as a number, or -1.
int Digits(std::string_view text, size_t pos, size_t n) {
  int value = 0;
  if (pos + n > text.size()) return -1;
  auto [end, ec] = std::from_chars(text.data() + pos, text.data() + pos + n, value);
  return ec == std::errc() && end == text.data() + pos + n && text[pos] != '-' && text[pos] != '+' ? value : -1;
}

}  // namespace

std::unique_ptr<Clock> SystemClock() { return std::make_unique<SystemWallClock>(); }

std::unique_ptr<Clock> ScaledClock(WallTime start, double speed) {
  if (!(speed > 0) || !std::isfinite(speed)) throw InvalidArgument("clock speed ", std::to_string(speed), ": expected a positive number");
  return std::make_unique<ScaledWallClock>(start, speed);
}

std::string FormatUtcTime(WallTime t, const char* format) {
  std::time_t secs = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  return std::string(buf, std::strftime(buf, sizeof buf, format, &tm));
}

WallTime ParseUtcTime(std::string_view text) {
  // "2026-12-07T08:59:50Z"
  bool shaped = text.size() == 20 && text[4] == '-' && text[7] == '-' && text[10] == 'T' && text[13] == ':' &&
                text[16] == ':' && text[19] == 'Z';
  int year = Digits(text, 0, 4), month = Digits(text, 5, 2), day = Digits(text, 8, 2);
  int hour = Digits(text, 11, 2), minute = Digits(text, 14, 2), second = Digits(text, 17, 2);
  std::chrono::year_month_day date{std::chrono::year(year), std::chrono::month(static_cast<unsigned>(month)),
                                   std::chrono::day(static_cast<unsigned>(day))};
  if (!shaped || year < 0 || month < 0 || day < 0 || !date.ok() || hour < 0 || hour > 23 || minute < 0 || minute > 59 ||
      second < 0 || second > 59) {
    throw InvalidArgument("time `", std::string(text), "`: expected UTC as 2026-12-07T08:59:50Z");
  }
  return std::chrono::sys_days(date) + std::chrono::hours(hour) + std::chrono::minutes(minute) + std::chrono::seconds(second);
}

std::unique_ptr<Clock> ClockFromEnvironment() {
  const char* value = std::getenv("OUTPOST_TEST_CLOCK");
  if (value == nullptr) return SystemClock();
  std::string_view text(value);
  size_t z = text.find('Z');
  std::string_view speed_text = z == std::string_view::npos ? "" : text.substr(z + 1);
  double speed = 1;
  try {
    if (!speed_text.empty()) {
      auto [end, ec] = speed_text.size() > 1 && speed_text[0] == ':'
                           ? std::from_chars(speed_text.data() + 1, speed_text.data() + speed_text.size(), speed)
                           : std::from_chars_result{speed_text.data(), std::errc::invalid_argument};
      if (ec != std::errc() || end != speed_text.data() + speed_text.size()) throw InvalidArgument("bad speed");
    }
    return ScaledClock(ParseUtcTime(text.substr(0, z == std::string_view::npos ? text.size() : z + 1)), speed);
  } catch (const Error& e) {
    throw InvalidArgument("OUTPOST_TEST_CLOCK=", text, ": expected START[:SPEED], e.g. 2026-12-07T08:59:50Z:60 (", e.what(), ")");
  }
}

}  // namespace outpost::link
