// Streaming decompression of layer blobs (gzip via zlib, zstd via libzstd) and the gzip header
// fields `outpost inspect` shows. Constant memory whatever the blob size.
//
// The exact codec (codec/) re-implements encoders; this is only the plain decoding a store needs
// to turn a compressed layer into its tar (copying into a docker-archive, checking diffIDs).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "common/io.h"
#include "image/image.h"

namespace outpost::storage {

// Returns a Reader of the decompressed bytes of `inner` (which it owns). Multi-member gzip and
// multi-frame zstd streams are read to their end. Kind kNone returns `inner` unchanged. Reads
// throw Corruption naming `what` for a malformed or truncated stream.
std::unique_ptr<Reader> NewDecompressingReader(std::unique_ptr<Reader> inner, image::Compression kind,
                                               std::string what);

// The fixed fields of a gzip member header (RFC 1952) and the file name when FNAME is set.
struct GzipHeader {
  uint8_t flags = 0;
  uint32_t mtime = 0;
  uint8_t xfl = 0;
  uint8_t os = 0;
  std::string fname;  // empty when FNAME is not set
};

// Parses the header at the start of `first_bytes` (a prefix of the blob, 1 KiB is plenty).
// Returns nullopt when the bytes do not start with the gzip magic or the header is cut off.
std::optional<GzipHeader> ParseGzipHeader(std::string_view first_bytes);

}  // namespace outpost::storage
