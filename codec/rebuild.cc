#include "codec/rebuild.h"

#include <zlib.h>
#include <zstd.h>

#include "codec/deflate_family.h"
#include "codec/gzip_format.h"
#include "common/error.h"

namespace outpost::codec {

class Compressor::Impl {
 public:
  virtual ~Impl() = default;
  virtual void Write(const uint8_t* data, size_t n) = 0;
  virtual void Finish() = 0;
};

namespace {

class Passthrough : public Compressor::Impl {
 public:
  explicit Passthrough(Writer& out) : out_(out) {}
  void Write(const uint8_t* data, size_t n) override { out_.Write(data, n); }
  void Finish() override {}

 private:
  Writer& out_;
};

class GzipCompressor : public Compressor::Impl {
 public:
  GzipCompressor(const Recipe& r, Writer& out) : out_(out), encoder_(MakeDeflateEncoder(r.deflate, out)) {
    out_.Write(r.gzip_header);
  }
  void Write(const uint8_t* data, size_t n) override {
    crc_ = static_cast<uint32_t>(crc32_z(crc_, data, n));
    length_ += n;
    encoder_->Write(data, n);
  }
  void Finish() override {
    encoder_->Finish();
    out_.Write(GzipTrailer(crc_, length_));
  }

 private:
  Writer& out_;
  std::unique_ptr<deflate::Encoder> encoder_;
  uint32_t crc_ = 0;
  uint64_t length_ = 0;
};

// libzstd's streaming compressor with the parameters the `zstd` CLI sets.
class ZstdCompressor : public Compressor::Impl {
 public:
  ZstdCompressor(const ZstdSpec& spec, Writer& out)
      : out_(out), cctx_(ZSTD_createCCtx()), buffer_(std::make_unique<uint8_t[]>(ZSTD_CStreamOutSize())) {
    if (cctx_ == nullptr) throw IOError("ZSTD_createCCtx failed (out of memory?)");
    Check(ZSTD_CCtx_setParameter(cctx_, ZSTD_c_compressionLevel, spec.level));
    Check(ZSTD_CCtx_setParameter(cctx_, ZSTD_c_checksumFlag, spec.checksum ? 1 : 0));
    Check(ZSTD_CCtx_setParameter(cctx_, ZSTD_c_contentSizeFlag, spec.content_size ? 1 : 0));
    Check(ZSTD_CCtx_setParameter(cctx_, ZSTD_c_nbWorkers, spec.workers));
    if (spec.content_size) Check(ZSTD_CCtx_setPledgedSrcSize(cctx_, *spec.content_size));
  }
  ~ZstdCompressor() override { ZSTD_freeCCtx(cctx_); }

  void Write(const uint8_t* data, size_t n) override {
    ZSTD_inBuffer in{data, n, 0};
    while (in.pos < in.size) Run(&in, ZSTD_e_continue);
  }
  void Finish() override {
    ZSTD_inBuffer in{nullptr, 0, 0};
    while (Run(&in, ZSTD_e_end) != 0) {
    }
  }

 private:
  static size_t Check(size_t ret) {
    if (ZSTD_isError(ret)) throw InvalidArgument("zstd recipe cannot be applied: ", ZSTD_getErrorName(ret));
    return ret;
  }
  size_t Run(ZSTD_inBuffer* in, ZSTD_EndDirective mode) {
    ZSTD_outBuffer o{buffer_.get(), ZSTD_CStreamOutSize(), 0};
    size_t left = Check(ZSTD_compressStream2(cctx_, &o, in, mode));
    out_.Write(buffer_.get(), o.pos);
    return left;
  }

  Writer& out_;
  ZSTD_CCtx* cctx_;
  std::unique_ptr<uint8_t[]> buffer_;
};

}  // namespace

Compressor::Compressor(const Recipe& recipe, Writer& out) {
  switch (recipe.compression) {
    case image::Compression::kNone: impl_ = std::make_unique<Passthrough>(out); break;
    case image::Compression::kGzip: impl_ = std::make_unique<GzipCompressor>(recipe, out); break;
    case image::Compression::kZstd: impl_ = std::make_unique<ZstdCompressor>(recipe.zstd, out); break;
  }
}

Compressor::~Compressor() = default;

void Compressor::Write(const uint8_t* data, size_t n) { impl_->Write(data, n); }
void Compressor::Finish() { impl_->Finish(); }

void Rebuild(const Recipe& recipe, Reader& uncompressed, Writer& out) {
  Compressor c(recipe, out);
  Copy(uncompressed, c);
  c.Finish();
}

}  // namespace outpost::codec
