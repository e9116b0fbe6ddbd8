#include "delta/varint.h"

#include "common/error.h"

namespace outpost::delta {
namespace {

constexpr int kMaxVarintBytes = 10;

// Folds one byte into a varint being decoded; returns true when it was the last.
bool Accumulate(uint8_t byte, int index, uint64_t* v, std::string_view what) {
  if (index == kMaxVarintBytes - 1 && byte > 1) throw Corruption(what, ": varint overflows 64 bits");
  *v |= static_cast<uint64_t>(byte & 0x7f) << (7 * index);
  return (byte & 0x80) == 0;
}

}  // namespace

void PutVarint(std::string* out, uint64_t v) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}

void PutSignedVarint(std::string* out, int64_t v) {
  PutVarint(out, (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63));
}

uint64_t GetVarint(std::string_view in, size_t* pos, std::string_view what) {
  uint64_t v = 0;
  for (int i = 0; i < kMaxVarintBytes; ++i) {
    if (*pos >= in.size()) throw Corruption(what, ": truncated varint");
    if (Accumulate(static_cast<uint8_t>(in[(*pos)++]), i, &v, what)) return v;
  }
  throw Corruption(what, ": varint longer than 10 bytes");
}

int64_t GetSignedVarint(std::string_view in, size_t* pos, std::string_view what) {
  uint64_t u = GetVarint(in, pos, what);
  return static_cast<int64_t>(u >> 1) ^ -static_cast<int64_t>(u & 1);
}

uint64_t ReadVarint(outpost::Reader& in, std::string_view what) {
  uint64_t v = 0;
  for (int i = 0; i < kMaxVarintBytes; ++i) {
    uint8_t byte;
    ReadFull(in, &byte, 1, what);
    if (Accumulate(byte, i, &v, what)) return v;
  }
  throw Corruption(what, ": varint longer than 10 bytes");
}

}  // namespace outpost::delta
