// Ported from github.com/klauspost/compress v1.15.12, flate/huffman_code.go, huffman_sortByFreq.go and huffman_sortByLiteral.go.
#include "deflate/kp_huffman.h"

#include <algorithm>
#include <climits>

namespace outpost::deflate::kp {
namespace {

HCode MakeCode(uint16_t code, uint8_t len) {
  return static_cast<HCode>(len) | static_cast<HCode>(code) << 8;
}

uint16_t Reverse(uint16_t code, uint8_t len) {
  uint16_t r = 0;
  for (int i = 0; i < len; ++i) r = static_cast<uint16_t>(r | ((code >> i) & 1) << (len - 1 - i));
  return r;
}

constexpr int kMaxBitsLimit = 16;

// State of one tree level in the length-limited construction.
struct Level {
  int32_t level;
  int32_t last_freq;
  int32_t next_char_freq;
  int32_t next_pair_freq;
  int32_t needed;
};

}  // namespace

const HuffmanEncoder& HuffmanEncoder::FixedLiterals() {
  static const HuffmanEncoder fixed = [] {
    HuffmanEncoder h;
    for (uint16_t ch = 0; ch < kLiteralCount; ++ch) {
      uint16_t bits;
      uint8_t size;
      if (ch < 144) {
        bits = ch + 48, size = 8;
      } else if (ch < 256) {
        bits = ch + 400 - 144, size = 9;
      } else if (ch < 280) {
        bits = ch - 256, size = 7;
      } else {
        bits = ch + 192 - 280, size = 8;
      }
      h.codes[ch] = MakeCode(Reverse(bits, size), size);
    }
    return h;
  }();
  return fixed;
}

const HuffmanEncoder& HuffmanEncoder::FixedOffsets() {
  static const HuffmanEncoder fixed = [] {
    HuffmanEncoder h;
    for (uint16_t ch = 0; ch < kOffsetCodeCount; ++ch) h.codes[ch] = MakeCode(Reverse(ch, 5), 5);
    return h;
  }();
  return fixed;
}

int HuffmanEncoder::BitLength(const uint16_t* freq, int n) const {
  int total = 0;
  for (int i = 0; i < n; ++i) {
    if (freq[i] != 0) total += freq[i] * CodeLen(codes[i]);
  }
  return total;
}

int HuffmanEncoder::CanReuseBits(const uint16_t* freq, int n) const {
  int total = 0;
  for (int i = 0; i < n; ++i) {
    if (freq[i] != 0) {
      if (codes[i] == 0) return INT32_MAX;
      total += freq[i] * CodeLen(codes[i]);
    }
  }
  return total;
}

void HuffmanEncoder::Generate(const uint16_t* freq, int n, int max_bits) {
  int count = 0;
  for (int i = 0; i < n; ++i) {
    if (freq[i] != 0) {
      list_[count++] = Node{static_cast<uint16_t>(i), freq[i]};
    } else {
      codes[i] = 0;
    }
  }
  if (count <= 2) {
    // One or two symbols: each gets a 1-bit code, in symbol order.
    for (int i = 0; i < count; ++i) codes[list_[i].literal] = MakeCode(static_cast<uint16_t>(i), 1);
    return;
  }
  std::sort(list_.begin(), list_.begin() + count, [](const Node& a, const Node& b) {
    return a.freq != b.freq ? a.freq < b.freq : a.literal < b.literal;
  });
  CountBits(count, max_bits);
  AssignCodes(count);
}

// Number of symbols per code length (bit_count_[1..]) for the sorted list_[0..n), limited to
// max_bits; the level-by-level pairing of the original (Go's compress/flate bitCounts).
void HuffmanEncoder::CountBits(int n, int max_bits) {
  if (max_bits > n - 1) max_bits = n - 1;
  auto freq_at = [&](int i) -> int32_t { return i < n ? list_[i].freq : INT32_MAX; };
  Level levels[kMaxBitsLimit] = {};
  int32_t leaf_counts[kMaxBitsLimit][kMaxBitsLimit] = {};
  for (int level = 1; level <= max_bits; ++level) {
    levels[level] = Level{level, list_[1].freq, list_[2].freq,
                          level == 1 ? INT32_MAX : list_[0].freq + list_[1].freq, 0};
    leaf_counts[level][level] = 2;
  }
  levels[max_bits].needed = 2 * n - 4;
  int level = max_bits;
  while (level < 16) {
    Level& l = levels[level];
    if (l.next_pair_freq == INT32_MAX && l.next_char_freq == INT32_MAX) {
      // Out of leaves and pairs: this level is done.
      l.needed = 0;
      levels[level + 1].next_pair_freq = INT32_MAX;
      ++level;
      continue;
    }
    int32_t prev_freq = l.last_freq;
    if (l.next_char_freq < l.next_pair_freq) {
      // Next item is a leaf.
      int32_t count = leaf_counts[level][level] + 1;
      l.last_freq = l.next_char_freq;
      leaf_counts[level][level] = count;
      l.next_char_freq = freq_at(count);
    } else {
      // Next item is a pair from the level below.
      l.last_freq = l.next_pair_freq;
      int32_t save = leaf_counts[level][level];
      std::copy(leaf_counts[level - 1], leaf_counts[level - 1] + kMaxBitsLimit, leaf_counts[level]);
      leaf_counts[level][level] = save;
      levels[l.level - 1].needed = 2;
    }
    if (--l.needed == 0) {
      if (l.level == max_bits) break;
      levels[l.level + 1].next_pair_freq = prev_freq + l.last_freq;
      ++level;
    } else {
      while (levels[level - 1].needed > 0) --level;
    }
  }
  bit_count_len_ = max_bits + 1;
  bit_count_.fill(0);
  int bits = 1;
  for (int lv = max_bits; lv > 0; --lv) {
    bit_count_[bits++] = leaf_counts[max_bits][lv] - leaf_counts[max_bits][lv - 1];
  }
}

// Canonical codes: the most frequent symbols get the shortest lengths; within one length, codes
// ascend in symbol order.
void HuffmanEncoder::AssignCodes(int n) {
  uint16_t code = 0;
  int end = n;
  for (int len = 0; len < bit_count_len_; ++len) {
    code = static_cast<uint16_t>(code << 1);
    int32_t count = bit_count_[len];
    if (len == 0 || count == 0) continue;
    Node* chunk = list_.data() + end - count;
    std::sort(chunk, chunk + count,
              [](const Node& a, const Node& b) { return a.literal < b.literal; });
    for (int i = 0; i < count; ++i) {
      codes[chunk[i].literal] = MakeCode(Reverse(code, static_cast<uint8_t>(len)),
                                         static_cast<uint8_t>(len));
      ++code;
    }
    end -= count;
  }
}

}  // namespace outpost::deflate::kp
