// Go's compressor for levels 2..9 (deflate.go): hash chains over a 32 KiB window sliding in a
// 64 KiB buffer; levels 2-3 take the first good match, levels 4-9 match lazily. Private to
// deflate/.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "deflate/go_huffman.h"

namespace outpost::deflate::go_internal {

// One row of Go's compressionLevel table.
struct LevelParams {
  int good;               // a match this long cuts the chain search to a quarter
  int lazy;               // do not look for a better match after one this long (lazy levels)
  int nice;               // stop searching at a match this long
  int chain;              // chain entries to try
  int fast_skip_hashing;  // levels 2-3: after matches up to this long, hash the skipped bytes
};
inline constexpr int kSkipNever = 0x7fffffff;  // fast_skip_hashing of the lazy levels

// Go's parameters for level 2..9.
LevelParams ChainLevel(int level);

class ChainMatcher {
 public:
  // Writes blocks to `blocks`, which must outlive the matcher.
  ChainMatcher(const LevelParams& params, BlockWriter& blocks);
  // Go's fillDeflate: slides the window if needed, then copies as much of `data` as fits.
  // Returns the bytes taken.
  size_t Fill(const uint8_t* data, size_t n);
  // Go's deflate(): turns buffered input into tokens, emitting a block every 16384 tokens; with
  // `sync`, consumes everything and emits the pending block.
  void Step(bool sync);

 private:
  template <bool lazy>
  void Run(bool sync);
  void Slide();
  bool FindMatch(int pos, int prev_head, int lookahead, int* length, int* offset) const;
  void InsertHash(int index);
  void Link(int index, uint32_t head);
  void WriteBlock(int index);
  void AddToken(Token t, int block_end);

  const LevelParams p_;
  BlockWriter& blocks_;
  std::vector<uint8_t> window_;    // 2 * 32 KiB plus slack for 8-byte loads
  std::vector<uint32_t> hash_head_;  // newest position + hash_offset_ per hash, 0 if none
  // Per position (mod 32 KiB), how far back the previous position with the same hash is,
  // capped at 65535 (also for "none"). Go stores absolute positions here; a distance walks the
  // same chain, ends it at the same place and halves the table.
  std::vector<uint16_t> hash_prev_;
  std::vector<Token> tokens_;
  int hash_offset_ = 1;
  int chain_head_ = -1;
  int index_ = 0;
  int window_end_ = 0;
  int block_start_ = 0;
  bool byte_available_ = false;  // window_[index_ - 1] still needs a token (lazy levels)
  int length_ = 3;
  int offset_ = 0;
  int max_insert_index_ = 0;
};

}  // namespace outpost::deflate::go_internal
