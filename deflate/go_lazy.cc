#include "deflate/go_lazy.h"

#include <algorithm>
#include <climits>
#include <cstring>

#include "deflate/go_fast.h"

namespace outpost::deflate::go_internal {
namespace {

constexpr int kWindowSize = 1 << 15;
constexpr int kWindowMask = kWindowSize - 1;
constexpr int kMinMatch = 4;    // the shortest match Go emits
constexpr int kMaxMatch = 258;
constexpr int kHashBits = 17;
constexpr int kHashSize = 1 << kHashBits;
constexpr int kMaxHashOffset = 1 << 24;
constexpr size_t kMaxBlockTokens = 1 << 14;
constexpr int kLoadSlack = 16;  // bytes past the window that 8-byte compares may read
// hash_prev_ entry for "no earlier position": stepping back this far always leaves the window.
constexpr uint32_t kFarAway = 0xffff;

uint32_t Load32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

uint32_t Hash4(const uint8_t* b) {
  uint32_t v = uint32_t{b[3]} | uint32_t{b[2]} << 8 | uint32_t{b[1]} << 16 | uint32_t{b[0]} << 24;
  return (v * 0x1e35a7bd) >> (32 - kHashBits);
}

}  // namespace

LevelParams ChainLevel(int level) {
  static constexpr LevelParams kLevels[] = {
      {4, 0, 16, 8, 5},              // 2
      {4, 0, 32, 32, 6},             // 3
      {4, 4, 16, 16, kSkipNever},    // 4
      {8, 16, 32, 32, kSkipNever},   // 5
      {8, 16, 128, 128, kSkipNever}, // 6
      {8, 32, 128, 256, kSkipNever}, // 7
      {32, 128, 258, 1024, kSkipNever},  // 8
      {32, 258, 258, 4096, kSkipNever},  // 9
  };
  return kLevels[level - 2];
}

ChainMatcher::ChainMatcher(const LevelParams& params, BlockWriter& blocks)
    : p_(params),
      blocks_(blocks),
      window_(2 * kWindowSize + kLoadSlack),
      hash_head_(kHashSize),
      hash_prev_(kWindowSize, kFarAway) {
  tokens_.reserve(kMaxBlockTokens + 1);
}

size_t ChainMatcher::Fill(const uint8_t* data, size_t n) {
  if (index_ >= 2 * kWindowSize - (kMinMatch + kMaxMatch)) Slide();
  size_t k = std::min(n, static_cast<size_t>(2 * kWindowSize - window_end_));
  std::memcpy(window_.data() + window_end_, data, k);
  window_end_ += static_cast<int>(k);
  return k;
}

void ChainMatcher::Slide() {
  std::memcpy(window_.data(), window_.data() + kWindowSize, kWindowSize);
  index_ -= kWindowSize;
  window_end_ -= kWindowSize;
  block_start_ = block_start_ >= kWindowSize ? block_start_ - kWindowSize : INT_MAX;
  hash_offset_ += kWindowSize;
  if (hash_offset_ > kMaxHashOffset) {
    // Rebase stored positions so they fit again; entries that fall off become "none".
    int delta = hash_offset_ - 1;
    hash_offset_ -= delta;
    chain_head_ -= delta;
    auto rebase = [delta](uint32_t& v) {
      v = static_cast<int>(v) > delta ? static_cast<uint32_t>(static_cast<int>(v) - delta) : 0;
    };
    std::for_each(hash_head_.begin(), hash_head_.end(), rebase);
  }
}

void ChainMatcher::WriteBlock(int index) {
  if (index <= 0) return;
  const uint8_t* input = nullptr;
  size_t input_len = 0;
  if (block_start_ <= index) {
    input = window_.data() + block_start_;
    input_len = static_cast<size_t>(index - block_start_);
  }
  block_start_ = index;
  blocks_.WriteBlock(tokens_.data(), tokens_.size(), false, input, input_len);
}

void ChainMatcher::AddToken(Token t, int block_end) {
  tokens_.push_back(t);
  if (tokens_.size() == kMaxBlockTokens) {
    WriteBlock(block_end);
    tokens_.clear();
  }
}

// Records that `index` follows `head` (an absolute position, 0 for none) in its hash chain.
void ChainMatcher::Link(int index, uint32_t head) {
  uint32_t distance = head == 0 ? kFarAway : static_cast<uint32_t>(index + hash_offset_) - head;
  hash_prev_[index & kWindowMask] = static_cast<uint16_t>(std::min(distance, kFarAway));
}

void ChainMatcher::InsertHash(int index) {
  uint32_t& head = hash_head_[Hash4(window_.data() + index)];
  Link(index, head);
  head = static_cast<uint32_t>(index + hash_offset_);
}

// Go's findMatch: walks the chain from prev_head for a match longer than 3 at pos. Everything
// the walk touches lives in locals so the compiler keeps it in registers.
bool ChainMatcher::FindMatch(int pos, int prev_head, int lookahead, int* out_length,
                             int* out_offset) const {
  const uint8_t* win = window_.data();
  const uint16_t* prev = hash_prev_.data();
  const int max_look = std::min(kMaxMatch, lookahead);
  const int nice = std::min(max_look, p_.nice);
  int tries = p_.chain;
  int length = kMinMatch - 1;
  if (length >= p_.good) tries >>= 2;
  int offset = 0;
  const uint8_t* here = win + pos;
  // A longer match must agree on the 4 bytes ending at `length` (Go tests the last one only;
  // testing 4 rejects more candidates early and changes nothing else).
  uint32_t w_end = Load32(here + length - 3);
  // Go stops at candidates before min_index or before the window start; stepping back from
  // min_index itself always lands before it.
  const int limit = std::max(pos - kWindowSize, 0);
  for (int i = prev_head; tries > 0; --tries) {
    if (w_end == Load32(win + i + length - 3)) {
      int n = static_cast<int>(CommonPrefix(win + i, here, static_cast<size_t>(max_look)));
      if (n > length && (n > kMinMatch || pos - i <= 4096)) {
        length = n;
        offset = pos - i;
        if (n >= nice) break;
        w_end = Load32(here + n - 3);
      }
    }
    i -= prev[i & kWindowMask];
    if (i < limit) break;
  }
  if (offset == 0) return false;
  *out_length = length;
  *out_offset = offset;
  return true;
}

void ChainMatcher::Step(bool sync) {
  if (window_end_ - index_ < kMinMatch + kMaxMatch && !sync) return;
  if (p_.fast_skip_hashing == kSkipNever) {
    Run<true>(sync);
  } else {
    Run<false>(sync);
  }
}

// The body of Go's deflate(), compiled once for the lazy levels and once for levels 2-3.
template <bool lazy>
void ChainMatcher::Run(bool sync) {
  max_insert_index_ = window_end_ - (kMinMatch - 1);
  for (;;) {
    const int lookahead = window_end_ - index_;
    if (lookahead < kMinMatch + kMaxMatch) {
      if (!sync) break;
      if (lookahead == 0) {
        if (byte_available_) {
          tokens_.push_back(LiteralToken(window_[index_ - 1]));
          byte_available_ = false;
        }
        if (!tokens_.empty()) {
          WriteBlock(index_);
          tokens_.clear();
        }
        break;
      }
    }
    if (index_ < max_insert_index_) {
      // The next position's head is usually needed next; start loading it now.
      __builtin_prefetch(&hash_head_[Hash4(window_.data() + index_ + 1)]);
      uint32_t& head = hash_head_[Hash4(window_.data() + index_)];
      chain_head_ = static_cast<int>(head);
      Link(index_, head);
      head = static_cast<uint32_t>(index_ + hash_offset_);
    }
    const int prev_length = length_;
    const int prev_offset = offset_;
    length_ = kMinMatch - 1;
    offset_ = 0;
    const int min_index = std::max(index_ - kWindowSize, 0);
    if (chain_head_ - hash_offset_ >= min_index &&
        ((!lazy && lookahead > kMinMatch - 1) ||
         (lazy && lookahead > prev_length && prev_length < p_.lazy))) {
      FindMatch(index_, chain_head_ - hash_offset_, lookahead, &length_, &offset_);
    }
    if ((!lazy && length_ >= kMinMatch) ||
        (lazy && prev_length >= kMinMatch && length_ <= prev_length)) {
      // Emit a match: the one just found (levels 2-3) or the previous position's (lazy).
      const Token match = lazy ? MatchToken(static_cast<uint32_t>(prev_length),
                                            static_cast<uint32_t>(prev_offset))
                               : MatchToken(static_cast<uint32_t>(length_),
                                            static_cast<uint32_t>(offset_));
      if (length_ <= p_.fast_skip_hashing) {
        int new_index = lazy ? index_ + prev_length - 1 : index_ + length_;
        int index = index_ + 1;
        // Start loading every head the skipped positions will update before updating any.
        const int insert_end = std::min(new_index, max_insert_index_);
        for (int k = index; k < insert_end; ++k) {
          __builtin_prefetch(&hash_head_[Hash4(window_.data() + k)]);
        }
        for (; index < new_index; ++index) {
          if (index < max_insert_index_) InsertHash(index);
        }
        index_ = index;
        if (lazy) {
          byte_available_ = false;
          length_ = kMinMatch - 1;
        }
      } else {
        index_ += length_;
      }
      AddToken(match, index_);
    } else {
      if (!lazy || byte_available_) {
        int i = lazy ? index_ - 1 : index_;
        AddToken(LiteralToken(window_[i]), i + 1);
      }
      ++index_;
      if (lazy) byte_available_ = true;
    }
  }
}

}  // namespace outpost::deflate::go_internal
