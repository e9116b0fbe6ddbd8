// Ported from github.com/klauspost/compress v1.15.12, flate/level1.go.
// Level 1: one 5-byte hash table; after a match, tries to chain another match right away.
#include "deflate/kp_levels.h"

namespace outpost::deflate::kp {

void FastEncoderL1::RebaseTables(bool clear) {
  if (clear) {
    table_.fill(0);
  } else {
    RebaseSingles(table_.data(), table_.size());
  }
}

void FastEncoderL1::EncodeWindow(Tokens& dst, int32_t s) {
  auto hash = [](uint64_t u) { return HashLen<kTableBits, 5>(u); };
  int32_t next_emit = s;
  const int32_t s_limit = hist_len_ - kInputMargin;
  uint64_t cv = Load64(s);
  for (;;) {
    constexpr int kSkipLog = 5;
    int32_t next_s = s;
    int32_t candidate = 0;
    for (;;) {
      uint32_t h = hash(cv);
      candidate = table_[h];
      next_s = s + 2 + ((s - next_emit) >> kSkipLog);
      if (next_s > s_limit) goto emit_remainder;
      uint64_t now = Load64(next_s);
      table_[h] = s + cur_;
      h = hash(now);
      if (s - (candidate - cur_) < kMaxMatchOffset &&
          static_cast<uint32_t>(cv) == Load32(candidate - cur_)) {
        table_[h] = next_s + cur_;
        break;
      }
      // One more right away.
      cv = now;
      s = next_s;
      ++next_s;
      candidate = table_[h];
      now >>= 8;
      table_[h] = s + cur_;
      if (s - (candidate - cur_) < kMaxMatchOffset &&
          static_cast<uint32_t>(cv) == Load32(candidate - cur_)) {
        table_[h] = next_s + cur_;
        break;
      }
      cv = now;
      s = next_s;
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
        if (s + l + 8 < hist_len_) table_[hash(Load64(s))] = s + cur_;
        goto emit_remainder;
      }
      uint64_t x = Load64(s - 2);
      int32_t o = cur_ + s - 2;
      table_[hash(x)] = o;
      x >>= 16;
      uint32_t curr = hash(x);
      candidate = table_[curr];
      table_[curr] = o + 2;
      if (s - (candidate - cur_) > kMaxMatchOffset ||
          static_cast<uint32_t>(x) != Load32(candidate - cur_)) {
        cv = x >> 8;
        ++s;
        break;
      }
    }
  }

emit_remainder:
  EmitRemainder(dst, next_emit);
}

}  // namespace outpost::deflate::kp
