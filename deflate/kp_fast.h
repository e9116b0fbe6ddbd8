// Ported from github.com/klauspost/compress v1.15.12, flate/fast_encoder.go.
// The fast match finders of the klauspost flate encoder, levels 1-6 (internal to deflate/).
// Each Encode call takes one window of at most 64 KiB, appends it to a history of earlier
// windows (matches reach back 32 KiB across calls), and appends the window's tokens to `dst`.
#pragma once

#include <cstdint>
#include <cstring>
#include <memory>

#include "deflate/kp_tokens.h"

namespace outpost::deflate::kp {

// A hash bucket remembering its two latest positions.
struct Entry2 {
  int32_t cur = 0;
  int32_t prev = 0;
};

class FastEncoder {
 public:
  virtual ~FastEncoder() = default;
  // Tokens for src[0..n), n <= 65535. Very short windows (< 13 bytes) produce no tokens but set
  // dst.n = n, which the caller reads as "not worth matching"; so does a window without matches
  // (dst.n stays 0).
  void Encode(Tokens& dst, const uint8_t* src, int32_t n);
  // Forgets the history: later input cannot match earlier input.
  void Reset();

  // The factory: level 1..6.
  static std::unique_ptr<FastEncoder> Create(int level);

 protected:
  static constexpr int32_t kAllocHistory = kMaxStoreBlockSize * 5;
  static constexpr int32_t kBufferReset = INT32_MAX - kAllocHistory - kMaxStoreBlockSize - 1;

  static constexpr int32_t kInputMargin = 12 - 1;

  // Matches hist_[s..hist_len_) (the new window) into dst.
  virtual void EncodeWindow(Tokens& dst, int32_t s) = 0;
  // Rebases the tables for cur_ = kMaxMatchOffset (clear: the history is empty, zero them).
  virtual void RebaseTables(bool clear) = 0;
  void RebaseSingles(int32_t* table, size_t n) const;
  // drop_prev: a stale cur drops prev too (levels 5, 6) rather than rebasing prev on its own.
  void RebasePairs(Entry2* table, size_t n, bool drop_prev) const;
  // Emits hist_[next_emit..) as literals, unless the window produced no tokens at all.
  void EmitRemainder(Tokens& dst, int32_t next_emit) const {
    if (next_emit < hist_len_ && dst.n != 0) EmitLiterals(dst, next_emit, hist_len_);
  }

  // Appends src to the history (sliding it down when full) and returns src's position in it.
  int32_t AddBlock(const uint8_t* src, int32_t n);
  // Table offset rebased for cur_ = kMaxMatchOffset: entries out of reach become 0.
  int32_t Rebased(int32_t v) const {
    int32_t min_off = cur_ + hist_len_ - kMaxMatchOffset;
    return v <= min_off ? 0 : v - cur_ + kMaxMatchOffset;
  }

  // Length of the common prefix of hist[s..s1) and hist[t..), s1 = min(s + 254, hist_len_).
  int32_t MatchLen(int32_t s, int32_t t) const {
    int32_t end = s + kMaxMatchLength - 4;
    return CommonPrefix(s, t, end < hist_len_ ? end : hist_len_);
  }
  // Length of the common prefix of hist[s..hist_len_) and hist[t..).
  int32_t MatchLenLong(int32_t s, int32_t t) const { return CommonPrefix(s, t, hist_len_); }
  int32_t CommonPrefix(int32_t s, int32_t t, int32_t end) const {
    int32_t n = 0;
    int32_t max = end - s;
    while (n < max) {
      uint64_t diff = Load64(s + n) ^ Load64(t + n);
      if (diff != 0) {
        n += __builtin_ctzll(diff) >> 3;
        return n < max ? n : max;
      }
      n += 8;
    }
    return max < 0 ? 0 : max;
  }
  uint64_t Load64(int32_t i) const {
    uint64_t v;
    std::memcpy(&v, hist_.get() + i, 8);
    return v;  // little-endian hosts only (x86-64, arm64)
  }
  uint32_t Load32(int32_t i) const {
    uint32_t v;
    std::memcpy(&v, hist_.get() + i, 4);
    return v;
  }
  // Emits hist[from..to) as literals.
  void EmitLiterals(Tokens& dst, int32_t from, int32_t to) const {
    dst.AddLiterals(hist_.get() + from, static_cast<size_t>(to - from));
  }
  uint8_t At(int32_t i) const { return hist_[i]; }

  std::unique_ptr<uint8_t[]> hist_;  // kAllocHistory bytes + padding once allocated
  int32_t hist_len_ = 0;
  int32_t cur_ = kMaxStoreBlockSize;  // position counter of hist_[0]
};

inline constexpr uint64_t kPrime4 = 2654435761u;
inline constexpr uint64_t kPrime5 = 889523592379ull;
inline constexpr uint64_t kPrime6 = 227718039650203ull;
inline constexpr uint64_t kPrime7 = 58295818150454627ull;
inline constexpr uint64_t kPrime8 = 0xcf1bbcdcb7a56463ull;

// Hash of the low `kBytes` bytes of u into kBits bits.
template <int kBits, int kBytes>
inline uint32_t HashLen(uint64_t u) {
  if constexpr (kBytes == 5) {
    return static_cast<uint32_t>(((u << 24) * kPrime5) >> (64 - kBits));
  } else if constexpr (kBytes == 6) {
    return static_cast<uint32_t>(((u << 16) * kPrime6) >> (64 - kBits));
  } else if constexpr (kBytes == 7) {
    return static_cast<uint32_t>(((u << 8) * kPrime7) >> (64 - kBits));
  } else if constexpr (kBytes == 8) {
    return static_cast<uint32_t>((u * kPrime8) >> (64 - kBits));
  } else {
    return (static_cast<uint32_t>(u) * static_cast<uint32_t>(kPrime4)) >> (32 - kBits);
  }
}

}  // namespace outpost::deflate::kp
