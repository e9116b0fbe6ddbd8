// The block layer of Go's compress/flate (Go 1.19 to 1.26): Huffman code construction with
// Go's own length-limited algorithm, the choice between stored, fixed and dynamic blocks, and
// the bit stream. Private to deflate/: go_flate.cc drives it with tokens.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "common/io.h"

namespace outpost::deflate::go_internal {

inline constexpr int kNumLiterals = 286;    // literal/length alphabet size (Go's maxNumLit)
inline constexpr int kNumOffsets = 30;      // distance alphabet size
inline constexpr int kNumCodegens = 19;     // code-length alphabet size
inline constexpr int kMaxStoredBlock = 65535;

// A token as Go packs it: a literal byte is its value; a match is kMatchType | (length - 3) << 22
// | (distance - 1).
using Token = uint32_t;
inline constexpr Token kMatchType = 1u << 30;
inline Token LiteralToken(uint8_t b) { return b; }
inline Token MatchToken(uint32_t length, uint32_t distance) {
  return kMatchType | (length - 3) << 22 | (distance - 1);
}

struct HuffCode {
  uint16_t code = 0;  // bit-reversed, ready to be written LSB first
  uint16_t len = 0;
};

// One Huffman code over an alphabet of fixed size, built the way Go's huffmanEncoder does.
class HuffmanEncoder {
 public:
  explicit HuffmanEncoder(int size);
  // Builds codes no longer than `max_bits` for the symbols with non-zero frequency; symbols with
  // frequency 0 get length 0. freq has size() entries.
  void Generate(const int32_t* freq, int max_bits);
  // Total bits to code `freq` (size() entries) with the current codes.
  int BitLength(const int32_t* freq) const;
  const HuffCode* codes() const { return codes_.data(); }
  int size() const { return static_cast<int>(codes_.size()); }
  void SetCode(int symbol, HuffCode c) { codes_[symbol] = c; }

 private:
  struct Node {
    uint16_t literal;
    int32_t freq;
  };
  void BitCounts(int n, int max_bits);
  void AssignCodes(int n, int max_bits);

  std::vector<HuffCode> codes_;
  std::vector<Node> nodes_;
  std::array<int32_t, 17> bit_count_{};
};

// Accumulates bits LSB first and passes whole bytes to a Writer in large batches.
class BitWriter {
 public:
  explicit BitWriter(Writer& out);
  void WriteBits(uint32_t value, unsigned nbits) {
    bits_ |= uint64_t{value} << nbits_;
    nbits_ += nbits;
    if (nbits_ >= 48) Spill();
  }
  void WriteCode(HuffCode c) { WriteBits(c.code, c.len); }
  // Pads the pending bits with zeros to a byte boundary (Go's huffmanBitWriter.flush).
  void AlignToByte();
  // Writes raw bytes; the stream must be byte aligned.
  void WriteBytes(const uint8_t* data, size_t n);
  // Hands every complete byte buffered so far to the Writer.
  void Drain();

 private:
  void Spill();

  Writer& out_;
  std::vector<uint8_t> buf_;
  size_t used_ = 0;
  uint64_t bits_ = 0;
  unsigned nbits_ = 0;
};

// Go's huffmanBitWriter: turns a block of tokens into the smallest of Go's block choices.
class BlockWriter {
 public:
  explicit BlockWriter(Writer& out);
  // Go's writeBlock: fixed, dynamic or stored, whichever Go estimates smallest. `input` is the
  // block's source bytes, or nullptr when Go no longer has them (then never stored).
  void WriteBlock(const Token* tokens, size_t n, bool eof, const uint8_t* input, size_t input_len);
  // Go's writeBlockDynamic (BestSpeed): dynamic unless stored is clearly smaller.
  void WriteBlockDynamic(const Token* tokens, size_t n, bool eof, const uint8_t* input,
                         size_t input_len);
  // Go's writeBlockHuff: literals only, dynamic code from the byte histogram, or stored.
  void WriteBlockHuff(bool eof, const uint8_t* input, size_t n);
  void WriteStoredHeader(size_t length, bool eof);
  void WriteStoredBlock(const uint8_t* input, size_t n);
  // Go's flush: pads to a byte boundary and outputs everything buffered.
  void Flush();

 private:
  void IndexTokens(const Token* tokens, size_t n, int* num_literals, int* num_offsets);
  void GenerateCodegen(int num_literals, int num_offsets, const HuffmanEncoder& lit,
                       const HuffmanEncoder& off);
  int DynamicSize(const HuffmanEncoder& lit, const HuffmanEncoder& off, int extra_bits,
                  int* num_codegens) const;
  int FixedSize(int extra_bits) const;
  void WriteDynamicHeader(int num_literals, int num_offsets, int num_codegens, bool eof);
  void WriteTokens(const Token* tokens, size_t n, const HuffCode* lit, const HuffCode* off);

  BitWriter bits_;
  std::array<int32_t, kNumLiterals> literal_freq_{};
  std::array<int32_t, kNumOffsets> offset_freq_{};
  std::array<int32_t, kNumCodegens> codegen_freq_{};
  std::array<uint8_t, kNumLiterals + kNumOffsets + 1> codegen_{};
  HuffmanEncoder literal_encoding_{kNumLiterals};
  HuffmanEncoder offset_encoding_{kNumOffsets};
  HuffmanEncoder codegen_encoding_{kNumCodegens};
};

}  // namespace outpost::deflate::go_internal
