// LEB128 varints, the integer encoding of the delta formats (docs/layer-delta-format.md).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/io.h"

namespace outpost::delta {

// Appends `v` as an unsigned LEB128 varint (7 bits per byte, low first, high bit = more).
void PutVarint(std::string* out, uint64_t v);
// Appends a signed value, zigzag-mapped to unsigned first.
void PutSignedVarint(std::string* out, int64_t v);

// Parses a varint at `*pos` of `in`, advancing `*pos`. Throws Corruption naming `what` when the
// input ends inside it or it is longer than 10 bytes.
uint64_t GetVarint(std::string_view in, size_t* pos, std::string_view what);
int64_t GetSignedVarint(std::string_view in, size_t* pos, std::string_view what);

// Reads a varint from a stream; same failures.
uint64_t ReadVarint(outpost::Reader& in, std::string_view what);

}  // namespace outpost::delta
