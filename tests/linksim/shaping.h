// The link simulator's shaping rules as plain, clock-free logic (no sockets): the byte-rate
// bucket, the black-hole schedule and the down-direction faults (cuts, one corrupted byte).
// Everything here is single-threaded: the simulator runs one event loop.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <vector>

namespace outpost::linksim {

using Clock = std::chrono::steady_clock;

// A token bucket for one direction, shared by every connection. Tokens are bytes; it refills at
// `rate` per second up to one slice (max(512, rate / 20) bytes), so a sender that waits for
// its slice sends small, evenly spaced writes. Rate 0 means unlimited.
class TokenBucket {
 public:
  explicit TokenBucket(uint64_t rate, Clock::time_point now);
  // A new rate from now on (0 = unlimited); the tokens already held are kept, up to the new slice.
  void SetRate(uint64_t rate, Clock::time_point now);
  uint64_t rate() const { return rate_; }
  // The most bytes one write may carry: one slice, or 64 KiB when unlimited.
  uint64_t slice() const;
  // How long until `want` (<= slice()) tokens are there; zero when they are now.
  Clock::duration WaitFor(uint64_t want, Clock::time_point now);
  // Spends `n` tokens, n no more than WaitFor last found (a write sent n bytes).
  void Take(uint64_t n);

 private:
  void Refill(Clock::time_point now);

  uint64_t rate_;
  double level_;
  Clock::time_point last_;
};

// When the link is a black hole: intervals of the process's life during which nothing is
// forwarded either way. Intervals may overlap or touch; they merge.
class Blackholes {
 public:
  // Adds [from, from + length).
  void Add(Clock::time_point from, Clock::duration length);
  // When the black hole that covers `now` ends (after every interval it runs into), or nullopt
  // when the link is open at `now`.
  std::optional<Clock::time_point> Until(Clock::time_point now) const;
  // How long the link has been a black hole between `start` and `now` (overlaps counted once).
  Clock::duration Total(Clock::time_point start, Clock::time_point now) const;

 private:
  struct Interval {
    Clock::time_point from, to;
  };
  std::vector<Interval> intervals_;
};

// The faults placed on the down byte stream, counted in bytes delivered to clients over all
// connections (the "down offset"): cuts at every multiple of `cut_every`, one cut at
// `cut_after`, one byte flipped at `corrupt_at`. 0 / nullopt switch a fault off.
class DownFaults {
 public:
  DownFaults(uint64_t cut_every, uint64_t cut_after, std::optional<uint64_t> corrupt_at);
  // The most of `want` bytes a write starting at down offset `offset` may carry so that it
  // ends on the next cut boundary rather than crossing it.
  uint64_t Limit(uint64_t offset, uint64_t want) const;
  // Flips, in `data` (the bytes about to be written at `offset`), the byte due for corruption
  // if it is among them, and returns its index there; Settle() reports what was written.
  std::optional<size_t> Corrupt(uint64_t offset, uint8_t* data, size_t n) const;
  // After a write of `written` bytes whose Corrupt() returned `flipped`: marks the
  // corruption done when the flipped byte went out, or flips it back in `data` when it did not.
  void Settle(size_t written, uint8_t* data, std::optional<size_t> flipped);
  // Whether a write that brought the down offset to `end` (> 0) must cut its connection now;
  // consumes the once-only cut-after.
  bool CutAt(uint64_t end);
  bool corrupted() const { return corrupted_; }

 private:
  uint64_t cut_every_;
  uint64_t cut_after_;
  bool cut_after_done_ = false;
  std::optional<uint64_t> corrupt_at_;
  bool corrupted_ = false;
};

}  // namespace outpost::linksim
