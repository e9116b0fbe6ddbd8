// A bsdiff-style delta: approximate matches found through a suffix array of the old bytes, then
// three streams — control triples, byte-wise differences over the matched runs, and extra bytes
// with no match — each compressed with zstd. The difference stream of a recompiled binary is
// mostly zeros (code moved by a constant offset), which is why this beats zstd-with-reference on
// ELF files. Payload layout: docs/layer-delta-format.md, "BSDIFF payload".
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace outpost::delta {

// Encodes `target` against `base`. Memory: about 5 x base.size() + 3 x target.size().
std::string BsdiffEncode(std::string_view base, std::string_view target, int zstd_level);

// Rebuilds the target from `base` and a payload made by BsdiffEncode. Throws Corruption if the
// payload is malformed or does not produce exactly `target_size` bytes.
std::string BsdiffApply(std::string_view base, std::string_view payload, uint64_t target_size);

}  // namespace outpost::delta
