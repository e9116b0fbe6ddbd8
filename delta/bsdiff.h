// A bsdiff-style delta: approximate matches found through hash chains of the old bytes, then
// three streams — control triples, byte-wise differences over the matched runs, and extra bytes
// with no match — each compressed with zstd. The difference stream of a recompiled binary is
// mostly zeros (code moved by a constant offset), which is why this beats zstd-with-reference on
// ELF files. Payload layout: docs/layer-delta-format.md, "BSDIFF payload".
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace outpost::delta {

// The three streams of a bsdiff-style delta, before packing.
struct BsdiffStreams {
  std::string control, diff, extra;
};

// Finds the matches of `target` in `base` (the expensive part: indexing `base`, and a search
// at every target byte not covered by a match). Memory: about 4 x base.size() + 4 bytes per
// two base bytes rounded up to a power of two (at most 32 MiB) + 3 x target.size(). Throws
// InvalidArgument for a base over 2 GiB.
BsdiffStreams BsdiffDiff(std::string_view base, std::string_view target);

// Packs the streams each as its own zstd frame (mode 0), the form for large files: the
// differences as zero runs at `zstd_level`, control and extra at most at level 12.
std::string BsdiffPack(const BsdiffStreams& streams, int zstd_level);

// Packs the streams uncompressed (mode 1), left to the delta's outer zstd stream: for small files,
// where per-file zstd frames cost more than they save and the outer stream shares context
// across files.
std::string BsdiffPackRaw(const BsdiffStreams& streams);

// BsdiffPack(BsdiffDiff(base, target), zstd_level).
std::string BsdiffEncode(std::string_view base, std::string_view target, int zstd_level);

// A run the payload rebuilds as differences from the base: target[new_offset, +length) against
// base[old_offset, +length).
struct BsdiffRegion {
  uint64_t new_offset = 0, old_offset = 0, length = 0;
};

// Rebuilds the target from `base` and a payload made by BsdiffPack or BsdiffPackRaw. Throws
// Corruption if the payload is malformed or does not produce exactly `target_size` bytes.
// `regions`, when given, receives the payload's difference runs in target order (empty ones left
// out).
std::string BsdiffApply(std::string_view base, std::string_view payload, uint64_t target_size,
                        std::vector<BsdiffRegion>* regions = nullptr);

}  // namespace outpost::delta
