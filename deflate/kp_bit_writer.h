// Ported from github.com/klauspost/compress v1.15.12, flate/huffman_bit_writer.go.
// Block writer of the klauspost flate encoder (internal to deflate/): chooses stored, fixed,
// dynamic or "reuse the previous table" for each block exactly as the original does, and writes
// the bits. A dynamic block written without a sync stays open (its EOB is owed) so the next
// block can continue with the same table.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "common/io.h"
#include "deflate/kp_huffman.h"
#include "deflate/kp_tokens.h"

namespace outpost::deflate::kp {

// Input bytes of a block, for the stored-block alternative; data == nullptr means "no input"
// (never stored).
struct BlockInput {
  const uint8_t* data = nullptr;
  size_t size = 0;
};

class HuffmanBitWriter {
 public:
  // Writes to `out` (not owned; must outlive this). penalty: log2 of the size penalty a new table
  // pays against reusing the open one (7 for levels 1-6, 8 for 7-9, 10 for Huffman-only).
  HuffmanBitWriter(Writer& out, unsigned penalty) : out_(&out), log_new_table_penalty_(penalty) {}

  // Starts a new stream to `out`: pending bits are dropped and no block is open. The code
  // tables keep their contents, as the original's do (they are never reused across a reset).
  void Reset(Writer& out);

  // Tokens of a block, dynamic/fixed/stored/reused as the original decides. `sync`: the block
  // must end here (flush or end of stream). May append an EOB to `tokens`.
  void WriteBlockDynamic(Tokens& tokens, bool eof, BlockInput input, bool sync);
  // Literal-only block of `input` (Huffman-only mode and incompressible fast blocks).
  void WriteBlockHuff(bool eof, BlockInput input, bool sync);
  // Closes any open block and starts a stored block of `length` bytes (byte aligned); with
  // length 0 and eof, an empty final fixed block instead.
  void WriteStoredHeader(size_t length, bool eof);
  // Writes raw bytes; the bit position must be byte aligned.
  void WriteBytes(const uint8_t* data, size_t n);
  // Closes any open block, pads to a byte boundary, and passes all buffered bytes to the sink.
  void Flush();

 private:
  bool CanReuse(const Tokens& t) const;
  void WriteBits(uint64_t value, unsigned nb) {
    bits_ |= value << nbits_;
    nbits_ += nb;
    if (nbits_ >= 48) WriteOutBits();
  }
  void WriteCode(HCode c) { WriteBits(CodeBits(c), CodeLen(c)); }
  void WriteOutBits();
  void WriteOwedEob();
  void GenerateCodegen(int num_literals, int num_offsets, const HuffmanEncoder& lit,
                       const HuffmanEncoder& off);
  int Codegens() const;
  int HeaderSize() const;
  int ExtraBitSize() const;
  // Bits of the indexed frequencies with the current tables, extra bits not included.
  int TokenBits() const;
  int FixedSize(int extra_bits) const;
  int StoredSize(BlockInput in, bool* storable) const;
  void WriteDynamicHeader(int num_literals, int num_offsets, int num_codegens, bool eof);
  void WriteFixedHeader(bool eof);
  void WriteStored(BlockInput in, bool eof);
  void IndexTokens(const Tokens& t, bool filled, int* num_literals, int* num_offsets);
  void Generate();
  void WriteTokens(const Tokens& t, const HuffmanEncoder& lit, const HuffmanEncoder& off);
  void WriteFixedTokens(Tokens& tokens, bool sync);
  void WriteHuffLiterals(const uint8_t* p, size_t n, const HCode* enc);

  Writer* out_;
  unsigned log_new_table_penalty_;
  uint64_t bits_ = 0;
  unsigned nbits_ = 0;
  size_t nbytes_ = 0;
  bool last_huffman_ = false;
  int last_header_ = 0;  // > 0: a block is open with this header size (bits), its EOB owed

  HuffmanEncoder literal_encoding_;
  HuffmanEncoder tmp_lit_encoding_;
  HuffmanEncoder offset_encoding_;
  HuffmanEncoder codegen_encoding_;
  HuffmanEncoder* lit_ = &literal_encoding_;  // swapped with tmp_ like the original
  HuffmanEncoder* tmp_ = &tmp_lit_encoding_;

  std::array<uint16_t, 257 + 32> literal_freq_{};
  std::array<uint16_t, 32> offset_freq_{};
  std::array<uint16_t, 19> codegen_freq_{};
  std::array<uint8_t, kLiteralCount + kOffsetCodeCount + 1> codegen_{};

  static constexpr size_t kBufferFlushSize = 1 << 16;
  std::array<uint8_t, kBufferFlushSize + 16> bytes_;
};

}  // namespace outpost::deflate::kp
