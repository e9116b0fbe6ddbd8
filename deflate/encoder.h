// Raw DEFLATE (RFC 1951) encoders that reproduce one implementation's output byte for byte.
//
// Each encoder here is our own implementation of a published algorithm (Go's compress/flate,
// klauspost's flate, GNU gzip's deflate), written so that for the same input and the same calls
// it emits exactly the bytes the original emits. The codec (codec/) wraps them in gzip framing
// and block layouts (pgzip, pigz) to rebuild layer blobs from their tars.
#pragma once

#include <cstddef>
#include <cstdint>

namespace outpost::deflate {

class Encoder {
 public:
  virtual ~Encoder() = default;
  // Compresses `n` more bytes of input. Output is written to the sink given at construction,
  // whenever the original would have produced it. Write calls may be split anywhere: the output
  // depends only on the concatenated input and the flush/finish calls (the originals buffer
  // input the same way).
  virtual void Write(const uint8_t* data, size_t n) = 0;
  // What the original does on a sync flush (Go: Writer.Flush; zlib: Z_SYNC_FLUSH): ends the
  // current block and emits an empty stored block, byte aligned.
  virtual void SyncFlush() = 0;
  // Ends the stream the way the original's Close does (final block).
  virtual void Finish() = 0;
};

}  // namespace outpost::deflate
