// A token bucket: the byte-rate cap shared by every transfer of one site (and one for the hub).
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>

namespace outpost::link {

// Thread-safe. Tokens are bytes; the bucket refills at `rate` per second up to `burst`. Callers
// reserve before they send and wait the time Reserve returns, so several senders sharing the
// bucket together stay under the rate (debt model: a reservation may drive the level negative).
class TokenBucket {
 public:
  using Time = std::chrono::steady_clock::time_point;

  // `rate` bytes per second (kUnlimitedRate: never waits); `burst` the most bytes sent at once
  // after an idle spell (at least one slice a sender reserves).
  TokenBucket(uint64_t rate, uint64_t burst);

  // Changes the rate (a window with another rate opened); keeps the current level.
  void SetRate(uint64_t rate, uint64_t burst);
  // Takes `bytes` tokens at `now` and returns how long to wait before sending them (0 when
  // the bucket held them). At rate 0 (no window open) it takes nothing and returns 1 s: the
  // caller looks at the schedule again.
  std::chrono::nanoseconds Reserve(uint64_t bytes, Time now);
  uint64_t rate() const;

 private:
  mutable std::mutex mu_;
  uint64_t rate_;
  double burst_;
  double level_;
  Time last_;
};

}  // namespace outpost::link
