// Test-only: a fixed clock for AgentState.
#pragma once

#include "link/clock.h"

namespace outpost::agent::testing {

class FixedClock : public link::Clock {
 public:
  link::WallTime Now() const override { return link::WallTime(std::chrono::seconds(1'800'000'000)); }
  std::chrono::milliseconds RealDuration(std::chrono::milliseconds d) const override { return d; }
};

}  // namespace outpost::agent::testing
