// Ported from github.com/klauspost/compress v1.15.12, flate/token.go.
// Token buffer of the klauspost flate encoder (internal to deflate/): the literals and matches
// of one block, with the running histograms its block writer sizes blocks from.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace outpost::deflate::kp {

inline constexpr int kMaxStoreBlockSize = 65535;  // largest stored block, and fast-level window
inline constexpr int kMaxMatchOffset = 1 << 15;   // DEFLATE window
inline constexpr int kMaxMatchLength = 258;
inline constexpr int kBaseMatchLength = 3;
inline constexpr int kLiteralCount = 286;  // literal/length alphabet size
inline constexpr int kOffsetCodeCount = 30;
inline constexpr uint32_t kEndBlockMarker = 256;
inline constexpr int kLengthShift = 22;
inline constexpr uint32_t kMatchType = 1u << 30;
inline constexpr uint32_t kOffsetMask = (1u << kLengthShift) - 1;
inline constexpr uint32_t kMatchOffsetOnlyMask = 0xffff;

// Extra bits of length code c (c = symbol - 257) and of offset code c.
inline constexpr std::array<uint8_t, 32> kLengthExtraBits = {
    0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0};
inline constexpr std::array<uint8_t, 32> kLengthBase = {
    0,  1,  2,  3,  4,  5,  6,  7,  8,  10,  12,  14,  16,  20,  24,
    28, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 255};
inline constexpr std::array<uint8_t, 32> kOffsetExtraBits = {
    0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6,
    7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13};
inline constexpr std::array<uint32_t, 30> kOffsetBase = {
    0x0000, 0x0001, 0x0002, 0x0003, 0x0004, 0x0006, 0x0008, 0x000c, 0x0010, 0x0018,
    0x0020, 0x0030, 0x0040, 0x0060, 0x0080, 0x00c0, 0x0100, 0x0180, 0x0200, 0x0300,
    0x0400, 0x0600, 0x0800, 0x0c00, 0x1000, 0x1800, 0x2000, 0x3000, 0x4000, 0x6000};

namespace detail {
constexpr std::array<uint8_t, 256> MakeLengthCodes() {
  std::array<uint8_t, 256> t{};
  for (int x = 0; x < 256; ++x) {
    int c = 0;
    while (c + 1 < 29 && kLengthBase[c + 1] <= x) ++c;
    t[x] = static_cast<uint8_t>(c);
  }
  return t;
}
// Offset codes for xoffset < 256 (index xoffset) and for larger ones (index 256 + (xoffset >> 7)
// mod 256, the original's table: code + 14, so 32768 >> 7 wraps to 14).
constexpr std::array<uint8_t, 512> MakeOffsetCodes() {
  std::array<uint8_t, 512> t{};
  for (uint32_t i = 0; i < 256; ++i) {
    int c = 0;
    while (c + 1 < 30 && kOffsetBase[c + 1] <= i) ++c;
    t[i] = static_cast<uint8_t>(c);
    t[256 + i] = static_cast<uint8_t>(c + 14);
  }
  return t;
}
}  // namespace detail

// Length code (0..28) of xlength = match length - 3.
inline constexpr std::array<uint8_t, 256> kLengthCodes = detail::MakeLengthCodes();
inline constexpr std::array<uint8_t, 512> kOffsetCodes = detail::MakeOffsetCodes();

// Offset code (0..29) of xoffset = match offset - 1 (also called with the offset itself).
inline uint32_t OffsetCode(uint32_t xoffset) {
  return xoffset < 256 ? kOffsetCodes[xoffset] : kOffsetCodes[256 + ((xoffset >> 7) & 255)];
}

// One block's tokens. A token is a literal byte (< 256), the end-of-block marker (256), or a
// match: kMatchType | xlength << 22 | offset code << 16 | xoffset. The histograms are 16 bits
// wide like the original's, which sizes blocks from them.
struct Tokens {
  std::array<uint16_t, 32> extra_hist{};  // symbols 256.. (EOB and length codes)
  std::array<uint16_t, 32> off_hist{};
  std::array<uint16_t, 256> lit_hist{};
  int n_filled = 0;
  uint32_t n = 0;
  std::array<uint32_t, kMaxStoreBlockSize + 1> tokens;

  void Reset();
  void AddLiteral(uint8_t lit) {
    tokens[n++] = lit;
    lit_hist[lit]++;
  }
  void AddLiterals(const uint8_t* p, size_t count) {
    for (size_t i = 0; i < count; ++i) AddLiteral(p[i]);
  }
  // xlength = length - 3 (<= 255), xoffset = offset - 1.
  void AddMatch(uint32_t xlength, uint32_t xoffset) {
    uint32_t code = OffsetCode(xoffset);
    extra_hist[kLengthCodes[xlength & 255] + 1u]++;
    off_hist[code & 31]++;
    tokens[n++] = kMatchType | xlength << kLengthShift | xoffset | code << 16;
  }
  // A match of any length >= 3 (split into pieces of at most 258), xoffset = offset - 1.
  void AddMatchLong(int32_t length, uint32_t xoffset);
  void AddEob() {
    tokens[n++] = kEndBlockMarker;
    extra_hist[0]++;
  }
  // Shannon estimate of the block's size in bits with an ideal table (the original's float
  // arithmetic, reproduced exactly because it decides whether to reuse a table).
  int EstimatedBits() const;
};

}  // namespace outpost::deflate::kp
