// Go's BestSpeed (level 1) match finder, deflatefast.go: a single-entry hash table over 4-byte
// sequences, matches allowed to reach into the previous block. Private to deflate/.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "deflate/go_huffman.h"

namespace outpost::deflate::go_internal {

// How many leading bytes of a and b agree, at most `max` (compares 8 bytes at a time).
inline size_t CommonPrefix(const uint8_t* a, const uint8_t* b, size_t max) {
  size_t i = 0;
  for (; i + 8 <= max; i += 8) {
    uint64_t x, y;
    std::memcpy(&x, a + i, 8);
    std::memcpy(&y, b + i, 8);
    if (x != y) return i + static_cast<size_t>(__builtin_ctzll(x ^ y) >> 3);
  }
  for (; i < max; ++i) {
    if (a[i] != b[i]) return i;
  }
  return max;
}

class FastMatcher {
 public:
  FastMatcher();
  // Appends to `tokens` the tokens for one block `src` (at most 65535 bytes), remembering the
  // block so the next one may refer back into it.
  void Encode(const uint8_t* src, size_t n, std::vector<Token>* tokens);
  // Forgets the previous block (Go's deflateFast.reset, after a tiny block is flushed).
  void Reset();

 private:
  struct Entry {
    uint32_t val = 0;    // the 4 bytes at `offset`
    int32_t offset = 0;  // position plus cur_ at the time it was stored
  };
  static constexpr int kTableBits = 14;
  static constexpr int kTableSize = 1 << kTableBits;

  int32_t MatchLen(int32_t s, int32_t t, const uint8_t* src, int32_t n) const;
  void ShiftOffsets();

  std::array<Entry, kTableSize> table_{};
  std::vector<uint8_t> prev_;  // the previous block, empty if unknown
  int32_t cur_;                // offset of the current block's first byte in table_ terms
};

}  // namespace outpost::deflate::go_internal
