// Ported from github.com/klauspost/compress v1.15.12, flate/level5.go.
// Level 5: a short (4-byte) hash table and a long (7-byte) one keeping two candidates per
// bucket; the better of the candidates at s and s+1 wins, then a second look from the match end.
#include "deflate/kp_levels.h"

namespace outpost::deflate::kp {

void FastEncoderL5::RebaseTables(bool clear) {
  if (clear) {
    table_.fill(0);
    btable_.fill(Entry2{});
    return;
  }
  RebaseSingles(table_.data(), table_.size());
  RebasePairs(btable_.data(), btable_.size(), true);
}

void FastEncoderL5::EncodeWindow(Tokens& dst, int32_t s) {
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
  for (;;) {
    constexpr int kSkipLog = 6;
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
        // A short match; a long candidate at s+1 may do better.
        l = MatchLen(s + 4, t + 4) + 4;
        l_cand = btable_[hl];
        table_[hs] = next_s + cur_;
        push_long(hl, next_s + cur_);
        int32_t t2 = l_cand.cur - cur_;
        if (next_s - t2 < kMaxMatchOffset) {
          if (Load32(l_cand.cur - cur_) == static_cast<uint32_t>(next)) {
            int32_t ml = MatchLen(next_s + 4, t2 + 4) + 4;
            if (ml > l) {
              t = t2;
              s = next_s;
              l = ml;
              break;
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
              break;
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

    // A better match may end where this one ends: look it up from the end, two bytes in.
    if (int32_t s_at = s + l; l < 30 && s_at < s_limit) {
      constexpr int32_t kSkipBeginning = 2;
      int32_t e_long = btable_[long_hash(Load64(s_at))].cur;
      int32_t t2 = e_long - cur_ - l + kSkipBeginning;
      int32_t s2 = s + kSkipBeginning;
      int32_t off = s2 - t2;
      if (t2 >= 0 && off < kMaxMatchOffset && off > 0) {
        if (int32_t l2 = MatchLenLong(s2, t2); l2 > l) {
          t = t2;
          l = l2;
          s = s2;
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
    s += l;
    next_emit = s;
    if (next_s >= s) s = next_s + 1;
    if (s >= s_limit) goto emit_remainder;

    // Index some positions inside the match: every third, short and long interleaved.
    if (int32_t i = s - l + 1; i < s - 1) {
      uint64_t x = Load64(i);
      int32_t o = i + cur_;
      table_[short_hash(x)] = o;
      push_long(long_hash(x), o);
      push_long(long_hash(x >> 8), o + 1);
      table_[short_hash(x >> 16)] = o + 2;
      for (i += 4; i < s - 1; i += 3) {
        uint64_t y = Load64(i);
        push_long(long_hash(y), i + cur_);
        table_[short_hash(y >> 8)] = i + cur_ + 1;
      }
    }

    uint64_t x = Load64(s - 1);
    int32_t o = cur_ + s - 1;
    table_[short_hash(x)] = o;
    push_long(long_hash(x), o);
    cv = x >> 8;
  }

emit_remainder:
  EmitRemainder(dst, next_emit);
}

}  // namespace outpost::deflate::kp
