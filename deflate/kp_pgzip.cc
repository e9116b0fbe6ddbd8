// Ported from github.com/klauspost/pgzip v1.2.5, gzip.go.
#include "deflate/kp_pgzip.h"

#include <zlib.h>

#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"
#include "deflate/klauspost_flate.h"

namespace outpost::deflate {
namespace {

void PutLe32(uint8_t* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<uint8_t>(v >> (8 * i));
}

}  // namespace

void WriteKlauspostPgzip(Reader& in, Writer& out, int level, size_t block_size) {
  if (block_size <= kPgzipTailSize) {
    throw Error(Error::Kind::kInvalidArgument,
                "pgzip: block size must exceed " + std::to_string(kPgzipTailSize));
  }
  uint8_t header[10] = {0x1f, 0x8b, 8, 0, 0x00, 0x09, 0x6e, 0x88, 0, 0xff};
  header[8] = level == 9 ? 2 : (level == 1 ? 4 : 0);

  std::vector<uint8_t> block(block_size);
  std::string tail;  // dictionary for the next block
  uLong crc = crc32(0, nullptr, 0);
  uint64_t size = 0;
  auto encoder = NewKlauspostEncoder(level, out);  // validates the level
  out.Write(header, sizeof(header));
  for (bool last = false; !last;) {
    size_t n = ReadUpTo(in, block.data(), block_size);
    last = n < block_size;
    encoder->Reset(out, tail);
    encoder->Write(block.data(), n);
    encoder->SyncFlush();
    if (last) encoder->Finish();
    crc = crc32(crc, block.data(), static_cast<uInt>(n));
    size += n;
    tail.clear();
    if (n > kPgzipTailSize) {
      tail.assign(reinterpret_cast<const char*>(block.data()) + n - kPgzipTailSize, kPgzipTailSize);
    }
  }
  uint8_t trailer[8];
  PutLe32(trailer, static_cast<uint32_t>(crc));
  PutLe32(trailer + 4, static_cast<uint32_t>(size));
  out.Write(trailer, sizeof(trailer));
}

}  // namespace outpost::deflate
