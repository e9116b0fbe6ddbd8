// Rebuild: compress an uncompressed layer stream exactly as a recipe says.
#pragma once

#include <memory>

#include "codec/recipe.h"
#include "common/io.h"

namespace outpost::codec {

// A streaming compressor for one recipe: uncompressed bytes in through Write, the blob's exact
// bytes out to `out` (which must outlive it). For gzip it writes the recipe's header at once,
// the deflate body as the encoder produces it, and the CRC32/ISIZE trailer on Finish.
class Compressor : public Writer {
 public:
  // Throws InvalidArgument if the recipe's encoder cannot be built.
  Compressor(const Recipe& recipe, Writer& out);
  ~Compressor() override;
  Compressor(const Compressor&) = delete;
  Compressor& operator=(const Compressor&) = delete;

  using Writer::Write;
  void Write(const uint8_t* data, size_t n) override;
  // Ends the blob. Throws InvalidArgument if a zstd recipe's content size differs from the
  // number of bytes written.
  void Finish();

  class Impl;  // one per compression (rebuild.cc)

 private:
  std::unique_ptr<Impl> impl_;
};

// Reads `uncompressed` to its end and writes the blob `recipe` describes to `out`, with reading
// (and the gzip CRC32) and writing on two helper threads that overlap compression; each of
// `uncompressed` and `out` is used by one thread at a time and is done with when this returns.
// Constant memory (a few MiB of buffers). Throws what Compressor, the reader and `out` throw.
void Rebuild(const Recipe& recipe, Reader& uncompressed, Writer& out);

}  // namespace outpost::codec
