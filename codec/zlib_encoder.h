// Encoders over the real zlib library: plain (Python's gzip and zlib modules, Java's
// GZIPOutputStream, zlib's own gzip writer) and in pigz's block layout.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "common/io.h"
#include "deflate/encoder.h"

namespace outpost::codec {

class ZlibStream;  // a zlib deflate stream writing to a Writer (zlib_encoder.cc)

struct ZlibParams {
  int level = 6;        // 0..9
  int mem_level = 8;    // 1..9
  int strategy = 0;     // Z_DEFAULT_STRATEGY .. Z_FIXED
  int window_bits = 15; // 8..15 (raw deflate: no zlib or gzip wrapper is written)
};

// A raw deflate stream from zlib's deflate() with `params`, written to `out` (which must outlive
// it). Throws InvalidArgument for parameters zlib rejects.
class ZlibEncoder : public deflate::Encoder {
 public:
  ZlibEncoder(const ZlibParams& params, Writer& out);
  ~ZlibEncoder() override;
  ZlibEncoder(const ZlibEncoder&) = delete;
  ZlibEncoder& operator=(const ZlibEncoder&) = delete;

  void Write(const uint8_t* data, size_t n) override;
  void SyncFlush() override;
  void Finish() override;

 private:
  std::unique_ptr<ZlibStream> stream_;
};

// pigz's layout (pigz 2.x, default options, zlib >= 1.2.6): the input is cut into `block_size`
// blocks; each is deflated by a freshly reset zlib stream (windowBits -15, memLevel 8) seeded
// with the previous block's last 32 KiB as dictionary, ended with Z_BLOCK and then brought to a
// byte boundary (a sync flush if an odd number of bits is pending, otherwise empty static
// blocks); the last block ends with Z_FINISH. Same bytes as `pigz -p 1` and multi-threaded pigz.
class PigzEncoder : public deflate::Encoder {
 public:
  PigzEncoder(int level, size_t block_size, Writer& out);
  ~PigzEncoder() override;
  PigzEncoder(const PigzEncoder&) = delete;
  PigzEncoder& operator=(const PigzEncoder&) = delete;

  void Write(const uint8_t* data, size_t n) override;
  // Ends the current (possibly short) block as pigz ends a block that has a successor.
  void SyncFlush() override;
  void Finish() override;

 private:
  void CompressBlock(bool last);

  std::unique_ptr<ZlibStream> stream_;
  int level_;
  size_t block_size_;
  std::string block_;
  std::string dictionary_;
};

}  // namespace outpost::codec
