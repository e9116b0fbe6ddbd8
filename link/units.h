// Quantities as operators write them in configs and flags: rates, sizes, durations.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace outpost::link {

// A byte rate: "64kbit", "2mbit", "1gbit" (decimal bits per second, as links are sold),
// "500kB" / "1MB" (decimal bytes per second), "8KiB" / "1MiB" (binary bytes per second);
// a bare number is bytes per second; a "/s" suffix is allowed ("2mbit/s"). Returns bytes per second (rounded down, at least 1).
// Throws InvalidArgument naming the text and the accepted forms.
uint64_t ParseRate(std::string_view text);

// A size: "64KiB", "1MiB", "2GiB", "500kB", "1MB", "1GB", a bare number of bytes.
// Throws InvalidArgument naming the text.
uint64_t ParseBytes(std::string_view text);

// A duration: "500ms", "30s", "5m", "2h", "1d"; a bare number is seconds.
// Throws InvalidArgument naming the text.
std::chrono::milliseconds ParseDuration(std::string_view text);

// "64 kbit/s", "1.5 Mbit/s": a rate for logs and status lines ("unlimited" for UINT64_MAX,
// schedule.h's kUnlimitedRate).
std::string FormatRate(uint64_t bytes_per_second);
// "1.5 MiB", "812 B": a size for logs.
std::string FormatBytes(uint64_t bytes);
// "1.5 MiB of 3 MiB (50%)": progress for status lines (no percentage when `total` is 0).
std::string FormatProgress(uint64_t done, uint64_t total);

}  // namespace outpost::link
