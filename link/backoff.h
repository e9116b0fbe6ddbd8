// Reconnect delays: exponential with jitter, capped, forever.
#pragma once

#include <chrono>
#include <cstdint>
#include <random>

namespace outpost::link {

// Not thread-safe (one per connection loop).
class Backoff {
 public:
  // Delays start at `initial`, double after each failure up to `cap`; each returned delay is
  // drawn uniformly from [d/2, d] so a fleet that lost the hub together does not return together.
  Backoff(std::chrono::milliseconds initial, std::chrono::milliseconds cap, uint64_t seed = std::random_device{}());

  // The delay before the next attempt; advances the exponent.
  std::chrono::milliseconds Next();
  // After a success: the next failure waits `initial` again.
  void Reset();

 private:
  std::chrono::milliseconds initial_, cap_, current_;
  std::mt19937_64 rng_;
};

}  // namespace outpost::link
