#include "codec/pgzip_layout.h"

#include <algorithm>

#include "common/error.h"

namespace outpost::codec {

PgzipEncoder::PgzipEncoder(BlockEncoderFactory factory, size_t block_size, Writer& out)
    : factory_(std::move(factory)), block_size_(block_size), out_(out) {
  if (block_size_ <= kPgzipTailBytes) throw InvalidArgument("pgzip block size must exceed ", std::to_string(kPgzipTailBytes));
  block_.reserve(block_size_);
}

void PgzipEncoder::Write(const uint8_t* data, size_t n) {
  while (n > 0) {
    size_t k = std::min(n, block_size_ - block_.size());
    block_.append(reinterpret_cast<const char*>(data), k);
    data += k;
    n -= k;
    if (block_.size() == block_size_) CompressBlock(false);
  }
}

void PgzipEncoder::SyncFlush() { CompressBlock(false); }
void PgzipEncoder::Finish() { CompressBlock(true); }

void PgzipEncoder::CompressBlock(bool last) {
  std::unique_ptr<deflate::Encoder> encoder = factory_(out_, tail_);
  encoder->Write(reinterpret_cast<const uint8_t*>(block_.data()), block_.size());
  encoder->SyncFlush();
  if (last) encoder->Finish();
  if (block_.size() > kPgzipTailBytes) {
    tail_.assign(block_, block_.size() - kPgzipTailBytes, kPgzipTailBytes);
  } else {
    tail_.clear();
  }
  block_.clear();
}

}  // namespace outpost::codec
