// Ported from github.com/klauspost/compress v1.15.12, flate/level4.go.
// Level 4: a short (4-byte) and a long (7-byte) table, one candidate each.
#include "deflate/kp_levels.h"

namespace outpost::deflate::kp {

void FastEncoderL4::RebaseTables(bool clear) {
  if (clear) {
    table_.fill(0);
    btable_.fill(0);
  } else {
    RebaseSingles(table_.data(), table_.size());
    RebaseSingles(btable_.data(), btable_.size());
  }
}

void FastEncoderL4::EncodeWindow(Tokens& dst, int32_t s) {
  auto short_hash = [](uint64_t u) { return HashLen<kTableBits, 4>(u); };
  auto long_hash = [](uint64_t u) { return HashLen<kTableBits, 7>(u); };
  int32_t next_emit = s;
  const int32_t s_limit = hist_len_ - kInputMargin;
  uint64_t cv = Load64(s);
  for (;;) {
    constexpr int kSkipLog = 6;
    int32_t next_s = s;
    int32_t t = 0;
    for (;;) {
      uint32_t hs = short_hash(cv);
      uint32_t hl = long_hash(cv);
      s = next_s;
      next_s = s + 1 + ((s - next_emit) >> kSkipLog);
      if (next_s > s_limit) goto emit_remainder;
      int32_t s_cand = table_[hs];
      int32_t l_cand = btable_[hl];
      uint64_t next = Load64(next_s);
      table_[hs] = s + cur_;
      btable_[hl] = s + cur_;
      t = l_cand - cur_;
      if (s - t < kMaxMatchOffset && static_cast<uint32_t>(cv) == Load32(l_cand - cur_)) break;
      t = s_cand - cur_;
      if (s - t < kMaxMatchOffset && static_cast<uint32_t>(cv) == Load32(s_cand - cur_)) {
        // A short match; prefer a longer long match at s+1.
        l_cand = btable_[long_hash(next)];
        int32_t l_off = next_s - (l_cand - cur_);
        if (l_off < kMaxMatchOffset && Load32(l_cand - cur_) == static_cast<uint32_t>(next)) {
          int32_t l1 = MatchLenLong(s + 4, t + 4);
          int32_t l2 = MatchLenLong(next_s + 4, next_s - l_off + 4);
          if (l2 > l1) {
            s = next_s;
            t = l_cand - cur_;
          }
        }
        break;
      }
      cv = next;
    }

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
      if (s + 8 < hist_len_) {
        uint64_t x = Load64(s);
        table_[short_hash(x)] = s + cur_;
        btable_[long_hash(x)] = s + cur_;
      }
      goto emit_remainder;
    }
    // Index every third position from next_s to the match end.
    for (int32_t i = next_s; i < s - 1; i += 3) {
      uint64_t x = Load64(i);
      btable_[long_hash(x)] = i + cur_;
      btable_[long_hash(x >> 8)] = i + cur_ + 1;
      table_[short_hash(x >> 8)] = i + cur_ + 1;
    }
    uint64_t x = Load64(s - 1);
    int32_t o = cur_ + s - 1;
    table_[short_hash(x)] = o;
    btable_[long_hash(x)] = o;
    cv = x >> 8;
  }

emit_remainder:
  EmitRemainder(dst, next_emit);
}

}  // namespace outpost::deflate::kp
