// Ported from github.com/klauspost/compress v1.15.12, flate/level6.go.
// Level 6: level 5 searching harder: a repeat-offset check, both long candidates at s+1 and at
// the match end, and every position inside a match indexed.
#include "deflate/kp_levels.h"

namespace outpost::deflate::kp {

void FastEncoderL6::RebaseTables(bool clear) {
  if (clear) {
    table_.fill(0);
    btable_.fill(Entry2{});
    return;
  }
  RebaseSingles(table_.data(), table_.size());
  RebasePairs(btable_.data(), btable_.size(), true);
}

void FastEncoderL6::EncodeWindow(Tokens& dst, int32_t s) {
  auto short_hash = [](uint64_t u) { return HashLen<kTableBits, 4>(u); };
  auto long_hash = [](uint64_t u) { return HashLen<kTableBits, 7>(u); };
  auto push_long = [&](uint32_t h, int32_t offset) {
    Entry2& e = btable_[h];
    e.prev = e.cur;
    e.cur = offset;
  };
  int32_t next_emit = s;
  const int32_t s_limit = hist_len_ - kInputMargin;
  uint64_t cv = Load64(s);
  int32_t repeat = 1;
  for (;;) {
    constexpr int kSkipLog = 7;
    int32_t next_s = s;
    int32_t l = 0;
    int32_t t = 0;
    for (;;) {
      uint32_t hs = short_hash(cv);
      uint32_t hl = long_hash(cv);
      s = next_s;
      next_s = s + 1 + ((s - next_emit) >> kSkipLog);
      if (next_s > s_limit) goto emit_remainder;
      int32_t s_cand = table_[hs];
      Entry2 l_cand = btable_[hl];
      uint64_t next = Load64(next_s);
      table_[hs] = s + cur_;
      push_long(hl, s + cur_);
      hs = short_hash(next);
      hl = long_hash(next);

      t = l_cand.cur - cur_;
      if (s - t < kMaxMatchOffset) {
        if (static_cast<uint32_t>(cv) == Load32(l_cand.cur - cur_)) {
          table_[hs] = next_s + cur_;
          push_long(hl, next_s + cur_);
          int32_t t2 = l_cand.prev - cur_;
          if (s - t2 < kMaxMatchOffset && static_cast<uint32_t>(cv) == Load32(l_cand.prev - cur_)) {
            l = MatchLen(s + 4, t + 4) + 4;
            int32_t ml1 = MatchLen(s + 4, t2 + 4) + 4;
            if (ml1 > l) {
              t = t2;
              l = ml1;
            }
          }
          break;
        }
        t = l_cand.prev - cur_;
        if (s - t < kMaxMatchOffset && static_cast<uint32_t>(cv) == Load32(l_cand.prev - cur_)) {
          table_[hs] = next_s + cur_;
          push_long(hl, next_s + cur_);
          break;
        }
      }

      t = s_cand - cur_;
      if (s - t < kMaxMatchOffset && static_cast<uint32_t>(cv) == Load32(s_cand - cur_)) {
        l = MatchLen(s + 4, t + 4) + 4;
        l_cand = btable_[hl];
        table_[hs] = next_s + cur_;
        push_long(hl, next_s + cur_);
        // The previous match's offset, one byte on.
        int32_t t2 = s - repeat + 1;
        if (Load32(t2) == static_cast<uint32_t>(cv >> 8)) {
          int32_t ml = MatchLen(s + 5, t2 + 4) + 4;
          if (ml > l) {
            t = t2;
            l = ml;
            s += 1;
            break;
          }
        }
        t2 = l_cand.cur - cur_;
        if (next_s - t2 < kMaxMatchOffset) {
          if (Load32(l_cand.cur - cur_) == static_cast<uint32_t>(next)) {
            int32_t ml = MatchLen(next_s + 4, t2 + 4) + 4;
            if (ml > l) {
              t = t2;
              s = next_s;
              l = ml;
            }
          }
          t2 = l_cand.prev - cur_;
          if (next_s - t2 < kMaxMatchOffset &&
              Load32(l_cand.prev - cur_) == static_cast<uint32_t>(next)) {
            int32_t ml = MatchLen(next_s + 4, t2 + 4) + 4;
            if (ml > l) {
              t = t2;
              s = next_s;
              l = ml;
            }
          }
        }
        break;
      }
      cv = next;
    }

    if (l == 0) {
      l = MatchLenLong(s + 4, t + 4) + 4;
    } else if (l == kMaxMatchLength) {
      l += MatchLenLong(s + l, t + l);
    }

    // Look for a better match ending where this one ends (both long candidates).
    if (int32_t s_at = s + l; s_at < s_limit) {
      constexpr int32_t kSkipBeginning = 2;
      Entry2 e_long = btable_[long_hash(Load64(s_at))];
      int32_t t2 = e_long.cur - cur_ - l + kSkipBeginning;
      int32_t s2 = s + kSkipBeginning;
      int32_t off = s2 - t2;
      if (off < kMaxMatchOffset) {
        if (off > 0 && t2 >= 0) {
          if (int32_t l2 = MatchLenLong(s2, t2); l2 > l) {
            t = t2;
            l = l2;
            s = s2;
          }
        }
        t2 = e_long.prev - cur_ - l + kSkipBeginning;
        off = s2 - t2;
        if (off > 0 && off < kMaxMatchOffset && t2 >= 0) {
          if (int32_t l2 = MatchLenLong(s2, t2); l2 > l) {
            t = t2;
            l = l2;
            s = s2;
          }
        }
      }
    }

    while (t > 0 && s > next_emit && At(t - 1) == At(s - 1)) {
      --s;
      --t;
      ++l;
    }
    if (next_emit < s) EmitLiterals(dst, next_emit, s);
    dst.AddMatchLong(l, static_cast<uint32_t>(s - t - 1));
    repeat = s - t;
    s += l;
    next_emit = s;
    if (next_s >= s) s = next_s + 1;
    if (s >= s_limit) {
      for (int32_t i = next_s + 1; i < hist_len_ - 8; i += 2) {
        uint64_t x = Load64(i);
        table_[short_hash(x)] = i + cur_;
        push_long(long_hash(x), i + cur_);
      }
      goto emit_remainder;
    }
    for (int32_t i = next_s + 1; i < s - 1; i += 2) {
      uint64_t x = Load64(i);
      uint32_t h1 = long_hash(x);
      uint32_t h2 = long_hash(x >> 8);
      table_[short_hash(x)] = i + cur_;
      push_long(h1, i + cur_);
      push_long(h2, i + cur_ + 1);
    }
    cv = Load64(s);
  }

emit_remainder:
  EmitRemainder(dst, next_emit);
}

}  // namespace outpost::deflate::kp
