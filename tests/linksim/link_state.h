// What every connection of the simulator shares: the options, the shaping state and the
// counters. Lives on the one event-loop thread, so it needs no locks.
#pragma once

#include <set>

#include "tests/linksim/options.h"
#include "tests/linksim/shaping.h"
#include "tests/linksim/stats.h"

namespace outpost::linksim {

class Connection;

struct LinkState {
  LinkState(Options o, Clock::time_point now)
      : options(std::move(o)),
        start(now),
        down(options.rate_down, now),
        up(options.rate_up, now),
        faults(options.cut_every, options.cut_after, options.corrupt_at) {}

  Options options;
  Clock::time_point start;  // the process start the --blackhole-at times count from
  TokenBucket down;         // upstream -> client
  TokenBucket up;           // client -> upstream
  Blackholes blackholes;
  DownFaults faults;
  Stats stats;              // all but blackholed_ms and corrupted, which are derived on demand
  std::set<Connection*> open;  // connections not closed yet (registered by Connection itself)
};

}  // namespace outpost::linksim
