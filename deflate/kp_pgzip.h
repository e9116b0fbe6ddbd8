// The gzip file layout of github.com/klauspost/pgzip v1.2.5 (gzip.go) over klauspost flate (what
// skopeo, podman, buildah and apko write), as a reference for tests and the codec.
//
// Byte layout:
//   header   1f 8b 08 00 | 00 09 6e 88 (MTIME of Go's zero time.Time) | XFL | ff
//            XFL = 02 at level 9, 04 at level 1, else 00
//   blocks   the input cut into block_size pieces; a full piece is always followed by another
//            (the last may be empty). Each piece is compressed by a fresh flate writer whose
//            dictionary is the last 16 KiB of the previous piece (none if that piece was not
//            longer than 16 KiB), then Flush()ed (sync flush, 00 00 ff ff); the last piece is
//            also Close()d (final empty fixed block, 03 00).
//   trailer  CRC-32 and size mod 2^32 of the input, little-endian.
#pragma once

#include <cstddef>

#include "common/io.h"

namespace outpost::deflate {

inline constexpr size_t kPgzipDefaultBlockSize = 1 << 20;
inline constexpr size_t kPgzipTailSize = 16 << 10;

// Compresses all of `in` to `out` as pgzip.NewWriterLevel(out, level) with
// SetConcurrency(block_size, _) would. block_size must exceed kPgzipTailSize. Throws
// Error(InvalidArgument) for a bad level or block size; reader/writer errors pass through.
// Memory: about 2 * block_size.
void WriteKlauspostPgzip(Reader& in, Writer& out, int level,
                         size_t block_size = kPgzipDefaultBlockSize);

}  // namespace outpost::deflate
