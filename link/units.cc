// Rates, sizes and durations as operators write them (units.h).
#include "link/units.h"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <optional>

#include "common/error.h"

namespace outpost::link {

namespace {

struct Unit {
  std::string_view suffix;
  double factor;
};

// Splits "1.5MiB" into 1.5 and "MiB"; nullopt when no non-negative finite number leads.
std::optional<std::pair<double, std::string_view>> SplitNumber(std::string_view text) {
  double value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value, std::chars_format::fixed);
  if (ec != std::errc() || !std::isfinite(value) || value < 0) return std::nullopt;
  std::string_view suffix(end, static_cast<size_t>(text.data() + text.size() - end));
  while (!suffix.empty() && suffix.front() == ' ') suffix.remove_prefix(1);
  return std::make_pair(value, suffix);
}

// The value of `text` in the unit its suffix names (one of `units`), or nullopt.
std::optional<double> Scaled(std::string_view text, std::initializer_list<Unit> units) {
  auto split = SplitNumber(text);
  if (!split) return std::nullopt;
  for (const Unit& unit : units) {
    if (split->second == unit.suffix) return split->first * unit.factor;
  }
  return std::nullopt;
}

// Rounds down to an integer; nullopt past 2^63 (no config means that much).
std::optional<uint64_t> ToInteger(double value) {
  if (value >= 9.2e18) return std::nullopt;
  return static_cast<uint64_t>(value);
}

// "1.5" or "64": one decimal, none when it would be ".0".
std::string OneDecimal(double value) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.1f", value);
  std::string out = buf;
  if (out.size() > 2 && out.compare(out.size() - 2, 2, ".0") == 0) out.resize(out.size() - 2);
  return out;
}

// `value` in the largest of `units` (ascending factors) it reaches.
std::string Scale(double value, std::initializer_list<Unit> units) {
  const Unit* chosen = units.begin();
  for (const Unit& unit : units) {
    if (value >= unit.factor) chosen = &unit;
  }
  return OneDecimal(value / chosen->factor) + " " + std::string(chosen->suffix);
}

}  // namespace

uint64_t ParseRate(std::string_view text) {
  std::string_view unit_text = text;
  if (unit_text.ends_with("/s")) unit_text.remove_suffix(2);
  auto bytes = Scaled(unit_text, {{"", 1}, {"B", 1}, {"bit", 1.0 / 8}, {"kbit", 1e3 / 8}, {"Kbit", 1e3 / 8},
                                  {"mbit", 1e6 / 8}, {"Mbit", 1e6 / 8}, {"gbit", 1e9 / 8}, {"Gbit", 1e9 / 8},
                                  {"kB", 1e3}, {"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9},
                                  {"KiB", 1024}, {"MiB", 1 << 20}, {"GiB", 1 << 30}});
  std::optional<uint64_t> rate = bytes ? ToInteger(*bytes) : std::nullopt;
  if (!rate || *bytes <= 0) {
    throw InvalidArgument("rate `", std::string(text), "`: expected a positive number with a unit: bits per second ",
                          "(64kbit, 2mbit, 1gbit), bytes per second (500kB, 1MB, 8KiB, 1MiB) or a bare number of "
                          "bytes per second");
  }
  return *rate == 0 ? 1 : *rate;
}

uint64_t ParseBytes(std::string_view text) {
  auto bytes = Scaled(text, {{"", 1}, {"B", 1}, {"kB", 1e3}, {"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"KiB", 1024},
                             {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"TiB", 1099511627776.0}});
  std::optional<uint64_t> size = bytes ? ToInteger(*bytes) : std::nullopt;
  if (!size) {
    throw InvalidArgument("size `", std::string(text), "`: expected a number of bytes with an optional unit ",
                          "(64KiB, 1MiB, 2GiB, 500kB, 1MB, 1GB)");
  }
  return *size;
}

std::chrono::milliseconds ParseDuration(std::string_view text) {
  auto ms = Scaled(text, {{"", 1000}, {"ms", 1}, {"s", 1000}, {"m", 60e3}, {"h", 3600e3}, {"d", 86400e3}});
  std::optional<uint64_t> value = ms ? ToInteger(*ms) : std::nullopt;
  if (!value) {
    throw InvalidArgument("duration `", std::string(text), "`: expected a number with a unit (500ms, 30s, 5m, 2h, 1d) ",
                          "or a bare number of seconds");
  }
  return std::chrono::milliseconds(static_cast<int64_t>(*value));
}

std::string FormatRate(uint64_t bytes_per_second) {
  if (bytes_per_second == UINT64_MAX) return "unlimited";
  return Scale(static_cast<double>(bytes_per_second) * 8, {{"bit/s", 1}, {"kbit/s", 1e3}, {"Mbit/s", 1e6}, {"Gbit/s", 1e9}});
}

std::string FormatBytes(uint64_t bytes) {
  return Scale(static_cast<double>(bytes), {{"B", 1}, {"KiB", 1024}, {"MiB", 1 << 20}, {"GiB", 1 << 30},
                                            {"TiB", 1099511627776.0}});
}

std::string FormatProgress(uint64_t done, uint64_t total) {
  std::string text = FormatBytes(done) + " of " + FormatBytes(total);
  if (total > 0) text += " (" + std::to_string(done * 100 / total) + "%)";
  return text;
}

}  // namespace outpost::link
