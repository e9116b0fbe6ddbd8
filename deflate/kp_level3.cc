// Ported from github.com/klauspost/compress v1.15.12, flate/level3.go.
// Level 3: a 16-bit table of 5-byte hashes keeping two candidates; the longer one wins.
#include "deflate/kp_levels.h"

namespace outpost::deflate::kp {

void FastEncoderL3::RebaseTables(bool clear) {
  if (clear) {
    table_.fill(Entry2{});
  } else {
    RebasePairs(table_.data(), table_.size(), false);
  }
}

void FastEncoderL3::EncodeWindow(Tokens& dst, int32_t s) {
  auto hash = [](uint64_t u) { return HashLen<16, 5>(u); };
  auto push = [&](uint32_t h, int32_t offset) {
    Entry2& e = table_[h];
    e.prev = e.cur;
    e.cur = offset;
  };
  int32_t next_emit = s;
  const int32_t s_limit = hist_len_ - kInputMargin;
  uint64_t cv = Load64(s);
  for (;;) {
    constexpr int kSkipLog = 7;
    int32_t next_s = s;
    int32_t candidate = 0;
    for (;;) {
      uint32_t h = hash(cv);
      s = next_s;
      next_s = s + 1 + ((s - next_emit) >> kSkipLog);
      if (next_s > s_limit) goto emit_remainder;
      Entry2 candidates = table_[h];
      uint64_t now = Load64(next_s);
      // Offsets at or above this are within reach of s + 4.
      int32_t min_offset = cur_ + s - (kMaxMatchOffset - 4);
      table_[h] = Entry2{s + cur_, candidates.cur};
      candidate = candidates.cur;
      if (candidate < min_offset) {
        cv = now;
        continue;
      }
      if (static_cast<uint32_t>(cv) == Load32(candidate - cur_)) {
        if (candidates.prev < min_offset ||
            static_cast<uint32_t>(cv) != Load32(candidates.prev - cur_)) {
          break;
        }
        int32_t l1 = MatchLenLong(s + 4, candidate - cur_ + 4);
        int32_t l2 = MatchLenLong(s + 4, candidates.prev - cur_ + 4);
        if (l2 > l1) candidate = candidates.prev;
        break;
      }
      candidate = candidates.prev;
      if (candidate > min_offset && static_cast<uint32_t>(cv) == Load32(candidate - cur_)) break;
      cv = now;
    }

    for (;;) {
      int32_t t = candidate - cur_;
      int32_t l = MatchLenLong(s + 4, t + 4) + 4;
      while (t > 0 && s > next_emit && At(t - 1) == At(s - 1)) {
        --s;
        --t;
        ++l;
      }
      if (next_emit < s) EmitLiterals(dst, next_emit, s);
      dst.AddMatchLong(l, static_cast<uint32_t>(s - t - 1));
      s += l;
      next_emit = s;
      if (next_s >= s) s = next_s + 1;
      if (s >= s_limit) {
        t += l;
        if (t + 8 < hist_len_ && t > 0) push(hash(Load64(t)), cur_ + t);
        goto emit_remainder;
      }
      for (int32_t i = s - l + 2; i < s - 5; i += 6) push(hash(Load64(i)), cur_ + i);
      uint64_t x = Load64(s - 2);
      push(hash(x), cur_ + s - 2);
      x >>= 8;
      push(hash(x), cur_ + s - 1);
      x >>= 8;
      uint32_t curr = hash(x);
      Entry2 candidates = table_[curr];
      cv = x;
      table_[curr] = Entry2{s + cur_, candidates.cur};
      candidate = candidates.cur;
      int32_t min_offset = cur_ + s - (kMaxMatchOffset - 4);
      if (candidate > min_offset) {
        if (static_cast<uint32_t>(cv) == Load32(candidate - cur_)) continue;
        candidate = candidates.prev;
        if (candidate > min_offset && static_cast<uint32_t>(cv) == Load32(candidate - cur_)) {
          continue;
        }
      }
      cv = x >> 8;
      ++s;
      break;
    }
  }

emit_remainder:
  EmitRemainder(dst, next_emit);
}

}  // namespace outpost::deflate::kp
