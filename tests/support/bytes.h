// Deterministic test bytes: the same seed gives the same bytes on every machine, so a failing
// case can be replayed. Test code only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace outpost::testing {

// `n` uniformly random bytes (incompressible, like binaries or already-compressed files).
std::string RandomBytes(size_t n, uint64_t seed);

// `n` bytes of compressible, text-like data (words from a small vocabulary, and numbers) that
// differ with `seed`.
std::string TextBytes(size_t n, uint64_t seed = 1);

// `v` as 4 little-endian bytes, the width of outpost's file-format length fields.
std::string Le32(uint32_t v);

}  // namespace outpost::testing
