#include "delta/varint.h"

#include <cstring>

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

void PutBytes(std::string* out, std::string_view bytes) {
  PutVarint(out, bytes.size());
  out->append(bytes);
}

std::string_view GetBytes(std::string_view in, size_t* pos, std::string_view what) {
  uint64_t n = GetVarint(in, pos, what);
  if (n > in.size() - *pos) throw Corruption(what, " is truncated");
  std::string_view out = in.substr(*pos, n);
  *pos += n;
  return out;
}

void PutDigest(std::string* out, const Digest& d) {
  out->append(reinterpret_cast<const char*>(d.bytes().data()), 32);
}

Digest GetDigest(std::string_view in, size_t* pos, std::string_view what) {
  if (in.size() - *pos < 32) throw Corruption(what, " is truncated");
  std::array<uint8_t, 32> bytes;
  std::memcpy(bytes.data(), in.data() + *pos, 32);
  *pos += 32;
  return Digest(bytes);
}

void PutSignedVarint(std::string* out, int64_t v) {
  PutVarint(out, (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63));
}

uint64_t GetLongVarint(std::string_view in, size_t* pos, std::string_view what) {
  uint64_t v = 0;
  for (int i = 0; i < kMaxVarintBytes; ++i) {
    if (*pos >= in.size()) throw Corruption(what, ": truncated varint");
    if (Accumulate(static_cast<uint8_t>(in[(*pos)++]), i, &v, what)) return v;
  }
  throw Corruption(what, ": varint longer than 10 bytes");
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
