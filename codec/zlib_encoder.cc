#include "codec/zlib_encoder.h"

#include <zlib.h>

#include <algorithm>

#include "common/error.h"

namespace outpost::codec {
namespace {

constexpr size_t kOutputBytes = 64 << 10;
constexpr size_t kPigzDictionaryBytes = 32 << 10;  // pigz's DICT: zlib's whole window
constexpr int kPigzMemLevel = 8;
constexpr int kStaticEmptyBlockBits = 10;  // BFINAL=0, BTYPE=01, end-of-block code 0000000

}  // namespace

class ZlibStream {
 public:
  z_stream z{};
  Writer& out;
  std::unique_ptr<uint8_t[]> buffer = std::make_unique<uint8_t[]>(kOutputBytes);

  ZlibStream(const ZlibParams& p, Writer& w) : out(w) {
    int ret = deflateInit2(&z, p.level, Z_DEFLATED, -p.window_bits, p.mem_level, p.strategy);
    if (ret != Z_OK) {
      throw InvalidArgument("zlib rejects level ", std::to_string(p.level), " memLevel ", std::to_string(p.mem_level),
                            " strategy ", std::to_string(p.strategy), " windowBits ", std::to_string(p.window_bits));
    }
  }
  ~ZlibStream() { deflateEnd(&z); }

  // deflate() with `flush` until it has taken all input and has no more output for now.
  void Run(const uint8_t* data, size_t n, int flush) {
    z.next_in = const_cast<uint8_t*>(data);
    z.avail_in = static_cast<uInt>(n);
    do {
      z.next_out = buffer.get();
      z.avail_out = kOutputBytes;
      int ret = ::deflate(&z, flush);
      if (ret == Z_STREAM_ERROR) throw IOError("zlib deflate failed");
      out.Write(buffer.get(), kOutputBytes - z.avail_out);
    } while (z.avail_out == 0 || z.avail_in > 0);
  }
};

ZlibEncoder::ZlibEncoder(const ZlibParams& params, Writer& out)
    : stream_(std::make_unique<ZlibStream>(params, out)) {}
ZlibEncoder::~ZlibEncoder() = default;

void ZlibEncoder::Write(const uint8_t* data, size_t n) {
  constexpr size_t kMaxChunk = 1u << 30;  // avail_in is 32 bits
  while (n > 0) {
    size_t k = std::min(n, kMaxChunk);
    stream_->Run(data, k, Z_NO_FLUSH);
    data += k;
    n -= k;
  }
}

void ZlibEncoder::SyncFlush() { stream_->Run(nullptr, 0, Z_SYNC_FLUSH); }
void ZlibEncoder::Finish() { stream_->Run(nullptr, 0, Z_FINISH); }

PigzEncoder::PigzEncoder(int level, size_t block_size, Writer& out)
    : stream_(std::make_unique<ZlibStream>(ZlibParams{6, kPigzMemLevel, Z_DEFAULT_STRATEGY, 15}, out)),
      level_(level),
      block_size_(block_size) {
  if (block_size_ == 0) throw InvalidArgument("pigz block size must be positive");
  block_.reserve(block_size_);
}
PigzEncoder::~PigzEncoder() = default;

void PigzEncoder::Write(const uint8_t* data, size_t n) {
  while (n > 0) {
    // A full block is compressed only once more input shows it is not the last one.
    if (block_.size() == block_size_) CompressBlock(false);
    size_t k = std::min(n, block_size_ - block_.size());
    block_.append(reinterpret_cast<const char*>(data), k);
    data += k;
    n -= k;
  }
}

void PigzEncoder::SyncFlush() { CompressBlock(false); }
void PigzEncoder::Finish() { CompressBlock(true); }

void PigzEncoder::CompressBlock(bool last) {
  z_stream& z = stream_->z;
  deflateReset(&z);
  deflateParams(&z, level_, Z_DEFAULT_STRATEGY);
  if (!dictionary_.empty()) {
    deflateSetDictionary(&z, reinterpret_cast<const Bytef*>(dictionary_.data()), static_cast<uInt>(dictionary_.size()));
  }
  const auto* data = reinterpret_cast<const uint8_t*>(block_.data());
  if (last) {
    stream_->Run(data, block_.size(), Z_FINISH);
  } else {
    stream_->Run(data, block_.size(), Z_BLOCK);
    int bits = 0;
    deflatePending(&z, nullptr, &bits);
    if (bits & 1) {
      stream_->Run(nullptr, 0, Z_SYNC_FLUSH);
    } else if (bits & 7) {
      do {
        deflatePrime(&z, kStaticEmptyBlockBits, 2);
        deflatePending(&z, nullptr, &bits);
      } while (bits & 7);
      stream_->Run(nullptr, 0, Z_BLOCK);
    }
  }
  size_t keep = std::min(block_.size(), kPigzDictionaryBytes);
  dictionary_.assign(block_, block_.size() - keep, keep);
  block_.clear();
}

}  // namespace outpost::codec
