// Ported from github.com/klauspost/compress v1.15.12, flate/level1.go to level6.go.
// The six fast match finders (internal to deflate/); see kp_fast.h for the contract.
#pragma once

#include <array>
#include <cstdint>

#include "deflate/kp_fast.h"

namespace outpost::deflate::kp {

inline constexpr int kTableBits = 15;
inline constexpr int kBTableBits = 17;

// Level 1: one 5-byte hash table, one candidate per position.
class FastEncoderL1 final : public FastEncoder {
 public:
  void EncodeWindow(Tokens& dst, int32_t s) override;
  void RebaseTables(bool clear) override;

 private:
  std::array<int32_t, 1 << kTableBits> table_{};
};

// Level 2: level 1 with a bigger table and more positions indexed inside matches.
class FastEncoderL2 final : public FastEncoder {
 public:
  void EncodeWindow(Tokens& dst, int32_t s) override;
  void RebaseTables(bool clear) override;

 private:
  std::array<int32_t, 1 << kBTableBits> table_{};
};

// Level 3: two candidates per bucket.
class FastEncoderL3 final : public FastEncoder {
 public:
  void EncodeWindow(Tokens& dst, int32_t s) override;
  void RebaseTables(bool clear) override;

 private:
  std::array<Entry2, 1 << 16> table_{};
};

// Level 4: a short and a long hash table, one candidate each.
class FastEncoderL4 final : public FastEncoder {
 public:
  void EncodeWindow(Tokens& dst, int32_t s) override;
  void RebaseTables(bool clear) override;

 private:
  std::array<int32_t, 1 << kTableBits> table_{};
  std::array<int32_t, 1 << kTableBits> btable_{};
};

// Level 5: see kp_level5.cc.
class FastEncoderL5 final : public FastEncoder {
 public:
  void EncodeWindow(Tokens& dst, int32_t s) override;
  void RebaseTables(bool clear) override;

 private:
  std::array<int32_t, 1 << kTableBits> table_{};
  std::array<Entry2, 1 << kTableBits> btable_{};
};

// Level 6: level 5 searching harder, with a repeat-offset check.
class FastEncoderL6 final : public FastEncoder {
 public:
  void EncodeWindow(Tokens& dst, int32_t s) override;
  void RebaseTables(bool clear) override;

 private:
  std::array<int32_t, 1 << kTableBits> table_{};
  std::array<Entry2, 1 << kTableBits> btable_{};
};

}  // namespace outpost::deflate::kp
