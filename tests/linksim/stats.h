// The simulator's counters and the one JSON line they are reported as.
#pragma once

#include <cstdint>
#include <string>

namespace outpost::linksim {

struct Stats {
  uint64_t bytes_down = 0;    // bytes delivered to clients (after shaping)
  uint64_t bytes_up = 0;      // bytes delivered upstream
  uint64_t connections = 0;   // connections accepted
  uint64_t cuts = 0;          // connections the simulator closed (--cut-*, control "cut")
  uint64_t blackholed_ms = 0; // time the link has been a black hole so far
  uint64_t connects = 0;      // CONNECT requests answered 200 (--connect-proxy)
  bool corrupted = false;     // the --corrupt-at byte has been delivered
};

// {"bytes_down":N,"bytes_up":N,"connections":N,"cuts":N,"blackholed_ms":N,"connects":N,
// "corrupted":bool}, one line without a newline.
std::string ToJson(const Stats& stats);

// Replaces `path` with `data` by writing a temp file beside it and renaming it over, so a reader
// sees the old or the new content, never a part. No fsync: readers need atomic visibility, not
// durability, and the event loop must not stall on the disk every 200 ms. Returns false (and
// leaves no temp file) when the file cannot be written.
bool WriteAtomically(const std::string& path, const std::string& data);

}  // namespace outpost::linksim
