// The inner-gzip method: a file that is itself gzip-compressed (Debian's changelog.Debian.gz and
// man pages, made by `gzip -9n`) is delta-encoded uncompressed, against the uncompressed base
// file, and rebuilt by re-compressing with GNU gzip's exact encoder. A delta of the compressed
// bytes is nearly as big as the file; a delta of the text is a few new changelog lines.
// Payload layout: docs/layer-delta-format.md, "GZIP payload".
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "deflate/gnu_gzip.h"

namespace outpost::delta {

// True when `bytes` start like a gzip member (compress::SniffCompression's gzip).
bool LooksGzipped(std::string_view bytes);

// A gzip target file opened for the inner-gzip method: its header fields and the uncompressed
// contents of it and of its base.
struct InnerGzip {
  deflate::GnuGzipHeader header;
  std::string plain, base_plain;
};

// Opens `target_gz` and `base_gz` (empty: no reference) when GNU gzip's encoder rebuilds
// `target_gz` byte for byte from its decompressed content and header fields, which is verified
// here; nullopt otherwise (other encoders, several members, trailing bytes). Throws Corruption if
// a non-empty base does not decompress.
std::optional<InnerGzip> OpenInnerGzip(std::string_view base_gz, std::string_view target_gz);

// The GZIP payload for an opened file, its content compressed at `zstd_level`.
std::string EncodeInnerGzip(const InnerGzip& opened, int zstd_level);

// Rebuilds the gzip file from `base_gz` (as given to OpenInnerGzip) and `payload`. Throws
// Corruption if the payload is malformed, the base does not decompress, or the result is not
// exactly `target_size` bytes.
std::string ApplyInnerGzip(std::string_view base_gz, std::string_view payload, uint64_t target_size);

}  // namespace outpost::delta
