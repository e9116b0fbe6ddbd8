#include "deflate/go_fast.h"

#include <algorithm>
#include <climits>

namespace outpost::deflate::go_internal {
namespace {

constexpr int32_t kMaxMatchOffset = 1 << 15;
constexpr int32_t kMaxMatchLength = 258;
constexpr int32_t kInputMargin = 16 - 1;
constexpr int32_t kMinNonLiteralBlockSize = 1 + 1 + kInputMargin;
// cur_ is moved back before it can overflow an int32 (Go's bufferReset).
constexpr int32_t kBufferReset = INT32_MAX - kMaxStoredBlock * 2;

uint32_t Load32(const uint8_t* p) {
  return uint32_t{p[0]} | uint32_t{p[1]} << 8 | uint32_t{p[2]} << 16 | uint32_t{p[3]} << 24;
}
uint64_t Load64(const uint8_t* p) { return uint64_t{Load32(p)} | uint64_t{Load32(p + 4)} << 32; }
uint32_t Hash(uint32_t u) { return (u * 0x1e35a7bd) >> (32 - 14); }

void EmitLiterals(const uint8_t* p, const uint8_t* end, std::vector<Token>* tokens) {
  for (; p < end; ++p) tokens->push_back(LiteralToken(*p));
}

}  // namespace

FastMatcher::FastMatcher() : cur_(kMaxStoredBlock) { prev_.reserve(kMaxStoredBlock); }

void FastMatcher::Encode(const uint8_t* src, size_t size, std::vector<Token>* tokens) {
  if (cur_ >= kBufferReset) ShiftOffsets();
  const int32_t n = static_cast<int32_t>(size);
  if (n < kMinNonLiteralBlockSize) {
    cur_ += kMaxStoredBlock;
    prev_.clear();
    EmitLiterals(src, src + n, tokens);
    return;
  }
  const int32_t s_limit = n - kInputMargin;
  int32_t next_emit = 0;
  int32_t s = 0;
  uint32_t cv = Load32(src);
  uint32_t next_hash = Hash(cv);
  for (;;) {
    // Look for a 4-byte match, skipping faster the longer nothing matches.
    int32_t skip = 32;
    int32_t next_s = s;
    Entry candidate;
    for (;;) {
      s = next_s;
      int32_t step = skip >> 5;
      next_s = s + step;
      skip += step;
      if (next_s > s_limit) goto emit_remainder;
      Entry& slot = table_[next_hash & (kTableSize - 1)];
      candidate = slot;
      uint32_t now = Load32(src + next_s);
      slot = {cv, s + cur_};
      next_hash = Hash(now);
      int32_t offset = s - (candidate.offset - cur_);
      if (offset > kMaxMatchOffset || cv != candidate.val) {
        cv = now;
        continue;
      }
      break;
    }
    EmitLiterals(src + next_emit, src + s, tokens);
    // Extend the match, then keep matching while the next position matches too.
    for (;;) {
      s += 4;
      int32_t t = candidate.offset - cur_ + 4;
      int32_t l = MatchLen(s, t, src, n);
      tokens->push_back(MatchToken(static_cast<uint32_t>(l + 4), static_cast<uint32_t>(s - t)));
      s += l;
      next_emit = s;
      if (s >= s_limit) goto emit_remainder;
      uint64_t x = Load64(src + s - 1);
      table_[Hash(static_cast<uint32_t>(x)) & (kTableSize - 1)] = {static_cast<uint32_t>(x),
                                                                   cur_ + s - 1};
      x >>= 8;
      Entry& slot = table_[Hash(static_cast<uint32_t>(x)) & (kTableSize - 1)];
      candidate = slot;
      slot = {static_cast<uint32_t>(x), cur_ + s};
      int32_t offset = s - (candidate.offset - cur_);
      if (offset > kMaxMatchOffset || static_cast<uint32_t>(x) != candidate.val) {
        cv = static_cast<uint32_t>(x >> 8);
        next_hash = Hash(cv);
        ++s;
        break;
      }
    }
  }
emit_remainder:
  EmitLiterals(src + next_emit, src + n, tokens);
  cur_ += n;
  prev_.assign(src, src + n);
}

// Length of the match at s against t, where a negative t points into the previous block and the
// match may run on from its end into the start of this block.
int32_t FastMatcher::MatchLen(int32_t s, int32_t t, const uint8_t* src, int32_t n) const {
  int32_t s1 = std::min(s + kMaxMatchLength - 4, n);
  if (t >= 0) return static_cast<int32_t>(CommonPrefix(src + t, src + s, s1 - s));
  int32_t tp = static_cast<int32_t>(prev_.size()) + t;
  if (tp < 0) return 0;
  int32_t len = std::min(static_cast<int32_t>(prev_.size()) - tp, s1 - s);
  int32_t k = static_cast<int32_t>(CommonPrefix(prev_.data() + tp, src + s, len));
  if (k < len || s + k == s1) return k;
  return k + static_cast<int32_t>(CommonPrefix(src, src + s + k, s1 - s - k));
}

void FastMatcher::Reset() {
  prev_.clear();
  cur_ += kMaxMatchOffset;
  if (cur_ >= kBufferReset) ShiftOffsets();
}

void FastMatcher::ShiftOffsets() {
  if (prev_.empty()) {
    table_.fill({});
  } else {
    for (Entry& e : table_) e.offset = std::max(e.offset - cur_ + kMaxMatchOffset + 1, 0);
  }
  cur_ = kMaxMatchOffset + 1;
}

}  // namespace outpost::deflate::go_internal
