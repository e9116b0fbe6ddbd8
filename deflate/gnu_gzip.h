// GNU gzip 1.12's deflate (the `gzip` command Debian 12 ships), reproduced byte for byte.
//
// GNU gzip does not use zlib: its deflate.c/trees.c are the 1993 originals zlib grew from, and
// they split blocks, flush and handle the end of input differently. Debian compresses every
// changelog and man page with `gzip -9n`, so the delta engine needs this encoder to rebuild
// such files exactly; some layers are also made with the `gzip` command.
//
// The encoder reproduces what `gzip -n -L` writes for a regular input file (gzip reads a file
// in window-sized chunks; reading from a pipe may return short reads, which can change where
// gzip's lookahead ends and so, rarely, its output).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "common/io.h"
#include "deflate/encoder.h"

namespace outpost::deflate {

// Returns an encoder whose raw deflate output equals the deflate body of `gzip -L` (1 <= level
// <= 9; InvalidArgument otherwise). Output goes to `out`, which must outlive the encoder.
// Memory is constant (about 400 KiB). SyncFlush throws Unsupported: gzip has no flush.
std::unique_ptr<Encoder> NewGnuGzipEncoder(int level, Writer& out);

// The gzip member header fields GNU gzip writes.
struct GnuGzipHeader {
  int level = 6;       // sets XFL: 4 for level 1, 2 for level 9, else 0
  uint32_t mtime = 0;  // 0 with -n (and for input with no usable time)
  std::string name;    // FNAME (the input's base name); empty with -n
};

// Writes the 10-byte gzip header (plus FNAME and its NUL when `name` is set), OS = 3 (Unix).
void WriteGnuGzipHeader(const GnuGzipHeader& header, Writer& out);

// Compresses all of `in` as one complete gzip member exactly as `gzip` does with those header
// fields: header, deflate body, CRC-32 and length mod 2^32. Returns the uncompressed size.
// Errors from `in` or `out` propagate.
uint64_t GnuGzipCompress(Reader& in, const GnuGzipHeader& header, Writer& out);

}  // namespace outpost::deflate
