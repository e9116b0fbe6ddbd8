// klauspost/pgzip's block layout (pgzip 1.2.x) over any deflate encoder that accepts a preset
// dictionary: the input is cut into `block_size` blocks; each block is compressed by a fresh
// encoder seeded with the previous block's last 16 KiB (no dictionary when the previous block
// was 16 KiB or shorter), then sync-flushed. Close compresses the remaining (possibly empty)
// block the same way and then finishes that encoder.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "common/io.h"
#include "deflate/encoder.h"

namespace outpost::codec {

inline constexpr size_t kPgzipDefaultBlockBytes = 1 << 20;
inline constexpr size_t kPgzipTailBytes = 16384;

class PgzipEncoder : public deflate::Encoder {
 public:
  // Makes one block's encoder writing to `out`, seeded with `dictionary` (may be empty).
  using BlockEncoderFactory =
      std::function<std::unique_ptr<deflate::Encoder>(Writer& out, std::string_view dictionary)>;

  // Writes raw deflate to `out` (which must outlive this object).
  PgzipEncoder(BlockEncoderFactory factory, size_t block_size, Writer& out);

  void Write(const uint8_t* data, size_t n) override;
  // pgzip's Writer.Flush: compresses the buffered (possibly short or empty) block now.
  void SyncFlush() override;
  void Finish() override;

 private:
  void CompressBlock(bool last);

  BlockEncoderFactory factory_;
  size_t block_size_;
  Writer& out_;
  std::string block_;
  std::string tail_;
};

}  // namespace outpost::codec
