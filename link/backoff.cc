// Reconnect delays (backoff.h).
#include "link/backoff.h"

#include <algorithm>

namespace outpost::link {

Backoff::Backoff(std::chrono::milliseconds initial, std::chrono::milliseconds cap, uint64_t seed)
    : initial_(std::max(std::min(initial, cap), std::chrono::milliseconds(1))),
      cap_(std::max(cap, initial_)),
      current_(initial_),
      rng_(seed) {}

std::chrono::milliseconds Backoff::Next() {
  std::chrono::milliseconds d = current_;
  current_ = std::min(current_ * 2, cap_);
  std::uniform_int_distribution<int64_t> pick(d.count() / 2, d.count());
  return std::chrono::milliseconds(pick(rng_));
}

void Backoff::Reset() { current_ = initial_; }

}  // namespace outpost::link
