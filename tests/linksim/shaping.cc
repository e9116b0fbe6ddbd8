#include "tests/linksim/shaping.h"

#include <algorithm>
#include <cmath>

namespace outpost::linksim {
namespace {

constexpr uint64_t kUnlimitedSlice = 64 << 10;
constexpr uint64_t kMinSlice = 512;

uint64_t SliceFor(uint64_t rate) { return rate == 0 ? kUnlimitedSlice : std::max(kMinSlice, rate / 20); }

}  // namespace

TokenBucket::TokenBucket(uint64_t rate, Clock::time_point now)
    : rate_(rate), level_(static_cast<double>(SliceFor(rate))), last_(now) {}

void TokenBucket::SetRate(uint64_t rate, Clock::time_point now) {
  Refill(now);
  rate_ = rate;
  level_ = std::min(level_, static_cast<double>(slice()));
}

uint64_t TokenBucket::slice() const { return SliceFor(rate_); }

void TokenBucket::Refill(Clock::time_point now) {
  if (now <= last_) return;
  double seconds = std::chrono::duration<double>(now - last_).count();
  level_ = std::min(static_cast<double>(slice()), level_ + seconds * static_cast<double>(rate_));
  last_ = now;
}

Clock::duration TokenBucket::WaitFor(uint64_t want, Clock::time_point now) {
  if (rate_ == 0) return Clock::duration::zero();
  Refill(now);
  double missing = static_cast<double>(want) - level_;
  if (missing <= 0) return Clock::duration::zero();
  auto wait = std::chrono::duration<double>(missing / static_cast<double>(rate_));
  return std::chrono::ceil<Clock::duration>(wait);
}

void TokenBucket::Take(uint64_t n) {
  if (rate_ != 0) level_ -= static_cast<double>(n);
}

void Blackholes::Add(Clock::time_point from, Clock::duration length) {
  if (length > Clock::duration::zero()) intervals_.push_back({from, from + length});
}

std::optional<Clock::time_point> Blackholes::Until(Clock::time_point now) const {
  std::optional<Clock::time_point> end;
  Clock::time_point t = now;
  for (bool grew = true; grew;) {  // follow intervals that start inside the one found so far
    grew = false;
    for (const Interval& i : intervals_) {
      if (i.from <= t && t < i.to) {
        t = i.to;
        end = t;
        grew = true;
      }
    }
  }
  return end;
}

Clock::duration Blackholes::Total(Clock::time_point start, Clock::time_point now) const {
  std::vector<Interval> clipped;
  for (const Interval& i : intervals_) {
    Clock::time_point from = std::max(i.from, start), to = std::min(i.to, now);
    if (from < to) clipped.push_back({from, to});
  }
  std::sort(clipped.begin(), clipped.end(), [](const Interval& a, const Interval& b) { return a.from < b.from; });
  Clock::duration total{};
  Clock::time_point covered = start;
  for (const Interval& i : clipped) {
    Clock::time_point from = std::max(i.from, covered);
    if (from < i.to) total += i.to - from;
    covered = std::max(covered, i.to);
  }
  return total;
}

DownFaults::DownFaults(uint64_t cut_every, uint64_t cut_after, std::optional<uint64_t> corrupt_at)
    : cut_every_(cut_every), cut_after_(cut_after), corrupt_at_(corrupt_at) {}

uint64_t DownFaults::Limit(uint64_t offset, uint64_t want) const {
  uint64_t limit = want;
  if (cut_every_ != 0) limit = std::min(limit, cut_every_ - offset % cut_every_);
  if (cut_after_ != 0 && !cut_after_done_ && offset < cut_after_) limit = std::min(limit, cut_after_ - offset);
  return limit;
}

std::optional<size_t> DownFaults::Corrupt(uint64_t offset, uint8_t* data, size_t n) const {
  if (!corrupt_at_ || corrupted_ || *corrupt_at_ < offset || *corrupt_at_ - offset >= n) return std::nullopt;
  size_t index = static_cast<size_t>(*corrupt_at_ - offset);
  data[index] ^= 0xFF;
  return index;
}

void DownFaults::Settle(size_t written, uint8_t* data, std::optional<size_t> flipped) {
  if (!flipped) return;
  if (*flipped < written) {
    corrupted_ = true;
  } else {
    data[*flipped] ^= 0xFF;
  }
}

bool DownFaults::CutAt(uint64_t end) {
  bool cut = cut_every_ != 0 && end % cut_every_ == 0;
  if (cut_after_ != 0 && !cut_after_done_ && end == cut_after_) {
    cut_after_done_ = true;
    cut = true;
  }
  return cut;
}

}  // namespace outpost::linksim
