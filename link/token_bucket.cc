// The shared byte-rate cap (token_bucket.h).
#include "link/token_bucket.h"

#include <algorithm>
#include <limits>

namespace outpost::link {

namespace {
constexpr uint64_t kUnlimited = std::numeric_limits<uint64_t>::max();  // schedule.h's kUnlimitedRate
}  // namespace

TokenBucket::TokenBucket(uint64_t rate, uint64_t burst)
    : rate_(rate), burst_(static_cast<double>(burst)), level_(static_cast<double>(burst)), last_(std::chrono::steady_clock::now()) {}

void TokenBucket::SetRate(uint64_t rate, uint64_t burst) {
  std::lock_guard lock(mu_);
  rate_ = rate;
  burst_ = static_cast<double>(burst);
  level_ = std::min(level_, burst_);
}

std::chrono::nanoseconds TokenBucket::Reserve(uint64_t bytes, Time now) {
  std::lock_guard lock(mu_);
  if (rate_ == kUnlimited) return std::chrono::nanoseconds(0);
  if (rate_ == 0) return std::chrono::seconds(1);  // no window open: look again later, take nothing
  double rate = static_cast<double>(rate_);
  if (now > last_) {
    level_ = std::min(burst_, level_ + rate * std::chrono::duration<double>(now - last_).count());
    last_ = now;
  }
  level_ -= static_cast<double>(bytes);
  if (level_ >= 0) return std::chrono::nanoseconds(0);
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::duration<double>(-level_ / rate));
}

uint64_t TokenBucket::rate() const {
  std::lock_guard lock(mu_);
  return rate_;
}

}  // namespace outpost::link
