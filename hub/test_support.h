// Test-only helpers of the hub's tests: a wall clock that stands still (or moves when told), a site.
#pragma once

#include <atomic>
#include <chrono>

#include <string>

#include "hub/hub_config.h"
#include "link/clock.h"

namespace outpost::hub::testing {

class FixedClock : public link::Clock {
 public:
  explicit FixedClock(link::WallTime t) : now_(t.time_since_epoch().count()) {}
  link::WallTime Now() const override { return link::WallTime(link::WallTime::duration(now_.load())); }
  std::chrono::milliseconds RealDuration(std::chrono::milliseconds d) const override { return d; }
  void Set(link::WallTime t) { now_ = t.time_since_epoch().count(); }

 private:
  std::atomic<link::WallTime::rep> now_;
};

// A site always open and unlimited.
inline SiteConfig Site(const std::string& name) {
  SiteConfig s;
  s.name = name;
  return s;
}

}  // namespace outpost::hub::testing
