// The block half of GNU gzip 1.12's deflate (its trees.c and bits.c): collects the literals and
// matches the matcher emits, decides where a block must end, and writes each block as stored,
// fixed or dynamic Huffman exactly as gzip does (same tree construction, same tie-breaking, same
// bit-length overflow repair, same run-length coding of the code lengths).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "common/io.h"

namespace outpost::deflate {

// LSB-first bit packer in front of a Writer, buffering a few KiB.
class GnuBitWriter {
 public:
  explicit GnuBitWriter(Writer& out) : out_(out) { buf_.reserve(kBufSize + 16); }
  // Appends the low `length` bits of `value` (value must have no higher bits set).
  void SendBits(uint32_t value, int length);
  // Pads to a byte boundary with zero bits (gzip's bi_windup).
  void Windup();
  // Appends whole bytes; the writer must be byte aligned.
  void SendBytes(const uint8_t* data, size_t n);
  // Hands every complete byte to the sink.
  void Flush();

 private:
  static constexpr size_t kBufSize = 64 << 10;
  Writer& out_;
  std::vector<uint8_t> buf_;
  uint64_t bits_ = 0;
  int nbits_ = 0;
};

// One node of a Huffman tree (gzip's ct_data, with its two unions kept as separate fields).
struct GnuTreeNode {
  uint16_t freq = 0;  // symbol count while the tree is built
  uint16_t code = 0;  // bit-reversed code once built
  uint16_t dad = 0;   // parent node while the tree is built
  uint16_t len = 0;   // code length once built
};

// Literal/match buffer plus block emission. Not copyable (it is large and refers to a sink).
class GnuBlockWriter {
 public:
  GnuBlockWriter(int level, GnuBitWriter& bits);
  GnuBlockWriter(const GnuBlockWriter&) = delete;
  GnuBlockWriter& operator=(const GnuBlockWriter&) = delete;

  // gzip's ct_tally: records a literal (dist == 0, lc = byte) or a match (dist >= 1,
  // lc = length - 3). `in_length` is the input consumed since the block began (strstart -
  // block_start), used by gzip's early-flush heuristic. Returns true when the block must be
  // flushed now.
  bool Tally(unsigned dist, unsigned lc, uint64_t in_length);
  // gzip's flush_block: writes the pending symbols as one block. `stored` points at the block's
  // input bytes (nullptr if they already left the window, which rules out a stored block);
  // `eof` makes it the final block and pads to a byte boundary.
  void FlushBlock(const uint8_t* stored, uint64_t stored_len, bool eof);

 private:
  struct TreeDesc;
  void InitBlock();
  void BuildTree(TreeDesc& desc);
  void GenBitLen(TreeDesc& desc);
  void GenCodes(GnuTreeNode* tree, int max_code);
  void PqDownHeap(const GnuTreeNode* tree, int k);
  bool Smaller(const GnuTreeNode* tree, int n, int m) const;
  void ScanTree(GnuTreeNode* tree, int max_code);
  void SendTree(const GnuTreeNode* tree, int max_code);
  int BuildBlTree();
  void SendAllTrees(int lcodes, int dcodes, int blcodes);
  void CompressBlock(const GnuTreeNode* ltree, const GnuTreeNode* dtree);
  void SendCode(int c, const GnuTreeNode* tree) { bits_.SendBits(tree[c].code, tree[c].len); }

  static constexpr int kLCodes = 286;
  static constexpr int kDCodes = 30;
  static constexpr int kBlCodes = 19;
  static constexpr int kHeapSize = 2 * kLCodes + 1;
  static constexpr unsigned kLitBufSize = 0x8000;
  static constexpr unsigned kDistBufSize = 0x8000;

  int level_;
  GnuBitWriter& bits_;
  std::array<GnuTreeNode, kHeapSize> dyn_ltree_{};
  std::array<GnuTreeNode, 2 * kDCodes + 1> dyn_dtree_{};
  std::array<GnuTreeNode, 2 * kBlCodes + 1> bl_tree_{};
  std::array<uint16_t, 16> bl_count_{};
  std::array<int, kHeapSize> heap_{};
  std::array<uint8_t, kHeapSize> depth_{};
  int heap_len_ = 0;
  int heap_max_ = 0;
  uint64_t opt_len_ = 0;
  uint64_t static_len_ = 0;
  int l_max_code_ = 0;
  int d_max_code_ = 0;
  // Pending symbols: l_buf_[i] is a literal byte or length-3; dist_[i] is 0 for a literal, else
  // distance-1+1 (gzip keeps the same information in d_buf plus a flag bit per symbol).
  std::vector<uint8_t> l_buf_;
  std::vector<uint16_t> dist_;
  unsigned last_lit_ = 0;
  unsigned last_dist_ = 0;
};

}  // namespace outpost::deflate
