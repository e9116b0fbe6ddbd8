// Which compression a stream uses, from its name or its first bytes: the one sniffer every
// folder uses (layer blobs, archive files, files inside layers).
#pragma once

#include <cstddef>
#include <string_view>

namespace outpost::compress {

enum class Compression { kNone, kGzip, kZstd };

// "gzip", "zstd" or "none".
std::string_view CompressionName(Compression c);

// Bytes a caller needs to hand SniffCompression for a certain answer.
inline constexpr size_t kSniffBytes = 4;

// Detects compression from a stream's first bytes: a gzip member of deflate data, 1f 8b 08 (the
// only method RFC 1952 defines); zstd magic 28 b5 2f fd, or a zstd skippable frame 5X 2a 4d 18
// (a stream may start with one); otherwise kNone, also for fewer bytes than a magic.
Compression SniffCompression(std::string_view first_bytes);

}  // namespace outpost::compress
