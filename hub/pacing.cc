#include "hub/pacing.h"

#include <algorithm>
#include <limits>

#include "link/http.h"
#include "link/schedule.h"

namespace outpost::hub {
namespace {

// rate * ms / 1000 without overflowing (saturates).
uint64_t BytesIn(uint64_t rate, std::chrono::milliseconds d) {
  if (d.count() <= 0) return 0;
  uint64_t ms = static_cast<uint64_t>(d.count());
  uint64_t whole = ms / 1000, rest = ms % 1000;
  constexpr uint64_t kMax = std::numeric_limits<uint64_t>::max();
  if (whole != 0 && rate > kMax / whole) return kMax;
  uint64_t bytes = rate * whole;
  uint64_t part = rate / 1000 * rest + rate % 1000 * rest / 1000;
  return bytes > kMax - part ? kMax : bytes + part;
}

}  // namespace

uint64_t SliceBytes(uint64_t rate) {
  if (rate == link::kUnlimitedRate) return 64 * 1024;
  return std::clamp<uint64_t>(rate / 20, 1024, 64 * 1024);
}

uint64_t BurstBytes(uint64_t rate) { return std::max<uint64_t>(rate, 16 * 1024); }

uint64_t GrantBytes(uint64_t asked, uint64_t rate, std::chrono::milliseconds until_change) {
  if (rate == link::kUnlimitedRate) return asked;
  uint64_t slice_cap = BytesIn(rate, std::chrono::duration_cast<std::chrono::milliseconds>(link::kMaxSliceTime));
  return std::min({asked, slice_cap, BytesIn(rate, until_change)});
}

uint64_t RetryAfterSeconds(std::chrono::milliseconds real_wait) {
  int64_t secs = (real_wait.count() + 999) / 1000;
  return static_cast<uint64_t>(std::clamp<int64_t>(secs, 1, 86400));
}

}  // namespace outpost::hub
