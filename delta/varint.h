// LEB128 varints, the integer encoding of the delta formats (docs/layer-delta-format.md), and
// the length-prefixed bytes and raw digests built on them.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/digest.h"
#include "common/io.h"

namespace outpost::delta {

// Appends `v` as an unsigned LEB128 varint (7 bits per byte, low first, high bit = more).
void PutVarint(std::string* out, uint64_t v);
// Appends a signed value, zigzag-mapped to unsigned first.
void PutSignedVarint(std::string* out, int64_t v);

// GetVarint for a varint of more than one byte (or none left).
uint64_t GetLongVarint(std::string_view in, size_t* pos, std::string_view what);

// Parses a varint at `*pos` of `in`, advancing `*pos`. Throws Corruption naming `what` when the
// input ends inside it or it is longer than 10 bytes. Inline for the one-byte ones: most of a
// correction stream's.
inline uint64_t GetVarint(std::string_view in, size_t* pos, std::string_view what) {
  if (*pos < in.size() && static_cast<uint8_t>(in[*pos]) < 0x80) return static_cast<uint8_t>(in[(*pos)++]);
  return GetLongVarint(in, pos, what);
}

// Parses a signed value PutSignedVarint wrote, as GetVarint does.
inline int64_t GetSignedVarint(std::string_view in, size_t* pos, std::string_view what) {
  uint64_t u = GetVarint(in, pos, what);
  return static_cast<int64_t>(u >> 1) ^ -static_cast<int64_t>(u & 1);
}

// Appends varint length + bytes.
void PutBytes(std::string* out, std::string_view bytes);
// Parses what PutBytes wrote (a view into `in`); Corruption naming `what` if it is cut short.
std::string_view GetBytes(std::string_view in, size_t* pos, std::string_view what);
// Appends the digest's 32 raw bytes.
void PutDigest(std::string* out, const Digest& d);
// Parses 32 raw digest bytes; Corruption naming `what` if fewer remain.
Digest GetDigest(std::string_view in, size_t* pos, std::string_view what);

// Reads a varint from a stream; same failures.
uint64_t ReadVarint(outpost::Reader& in, std::string_view what);

}  // namespace outpost::delta
