// Ported from github.com/klauspost/compress v1.15.12, flate/huffman_code.go, huffman_sortByFreq.go and huffman_sortByLiteral.go.
// Huffman code construction of the klauspost flate encoder (internal to deflate/): length-limited
// codes built the way the original builds them, so equal frequencies give equal tables.
#pragma once

#include <array>
#include <cstdint>

#include "deflate/kp_tokens.h"

namespace outpost::deflate::kp {

// A code: bit length in the low 8 bits, bit-reversed code above. 0 means "no code".
using HCode = uint32_t;
inline uint8_t CodeLen(HCode c) { return static_cast<uint8_t>(c); }
inline uint64_t CodeBits(HCode c) { return c >> 8; }

class HuffmanEncoder {
 public:
  // Codes for `freq[0..n)`; codes of zero frequencies become 0; codes at index >= n keep their
  // previous value (the original relies on that when it swaps tables). max_bits <= 15.
  void Generate(const uint16_t* freq, int n, int max_bits);
  // Bits needed to code `freq[0..n)`.
  int BitLength(const uint16_t* freq, int n) const;
  // Like BitLength, or INT32_MAX if a used symbol has no code.
  int CanReuseBits(const uint16_t* freq, int n) const;

  std::array<HCode, 512> codes{};

  static const HuffmanEncoder& FixedLiterals();
  static const HuffmanEncoder& FixedOffsets();

 private:
  struct Node {
    uint16_t literal;
    uint16_t freq;
  };
  void CountBits(int n, int max_bits);
  void AssignCodes(int n);

  std::array<Node, kLiteralCount + 1> list_{};
  std::array<int32_t, 17> bit_count_{};
  int bit_count_len_ = 0;
};

}  // namespace outpost::deflate::kp
