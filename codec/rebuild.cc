#include "codec/rebuild.h"

#include <zlib.h>

#include "codec/deflate_family.h"
#include "common/async_io.h"
#include "common/error.h"
#include "compress/gzip_format.h"
#include "compress/zstd.h"

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

// The gzip trailer's CRC32 and ISIZE of the uncompressed bytes.
struct Crc32 {
  uint32_t value = 0;
  uint64_t length = 0;
  void Update(const uint8_t* data, size_t n) {
    value = static_cast<uint32_t>(crc32_z(value, data, n));
    length += n;
  }
};

class GzipCompressor : public Compressor::Impl {
 public:
  // `external`, if set, is the CRC32 of the same input computed elsewhere (Rebuild's reader
  // thread), complete when Finish is called; otherwise the compressor computes its own.
  GzipCompressor(const Recipe& r, Writer& out, const Crc32* external)
      : out_(out), encoder_(MakeDeflateEncoder(r.deflate, out)), external_(external) {
    out_.Write(r.gzip_header);
  }
  void Write(const uint8_t* data, size_t n) override {
    if (external_ == nullptr) own_.Update(data, n);
    encoder_->Write(data, n);
  }
  void Finish() override {
    encoder_->Finish();
    const Crc32& crc = external_ != nullptr ? *external_ : own_;
    out_.Write(compress::GzipTrailer(crc.value, crc.length));
  }

 private:
  Writer& out_;
  std::unique_ptr<deflate::Encoder> encoder_;
  const Crc32* external_;
  Crc32 own_;
};

// libzstd's streaming compressor with the parameters the `zstd` CLI sets.
class ZstdCompressor : public Compressor::Impl {
 public:
  ZstdCompressor(const ZstdSpec& spec, Writer& out)
      : writer_(out, compress::ZstdParams{.level = spec.level,
                                          .checksum = spec.checksum,
                                          .content_size = spec.content_size.has_value(),
                                          .workers = spec.workers,
                                          .size = spec.content_size}) {}
  void Write(const uint8_t* data, size_t n) override { writer_.Write(data, n); }
  void Finish() override { writer_.Finish(); }

 private:
  compress::ZstdWriter writer_;
};

std::unique_ptr<Compressor::Impl> MakeImpl(const Recipe& recipe, Writer& out, const Crc32* external_crc) {
  switch (recipe.compression) {
    case image::Compression::kNone: return std::make_unique<Passthrough>(out);
    case image::Compression::kGzip: return std::make_unique<GzipCompressor>(recipe, out, external_crc);
    case image::Compression::kZstd: return std::make_unique<ZstdCompressor>(recipe.zstd, out);
  }
  throw InvalidArgument("recipe has an unknown compression");
}

}  // namespace

Compressor::Compressor(const Recipe& recipe, Writer& out) : impl_(MakeImpl(recipe, out, nullptr)) {}

Compressor::~Compressor() = default;

void Compressor::Write(const uint8_t* data, size_t n) { impl_->Write(data, n); }
void Compressor::Finish() { impl_->Finish(); }

// Three threads overlap: this one compresses; a reader thread reads the input and computes its
// CRC32; a writer thread writes the output (and whatever `out` computes, e.g. its sha256).
void Rebuild(const Recipe& recipe, Reader& uncompressed, Writer& out) {
  WriteBehindWriter behind(out);
  Crc32 crc;
  std::unique_ptr<Compressor::Impl> impl = MakeImpl(recipe, behind, &crc);
  {
    ReadAheadReader ahead(uncompressed, [&crc](const uint8_t* data, size_t n) { crc.Update(data, n); });
    for (auto view = ahead.ReadView(); !view.empty(); view = ahead.ReadView()) impl->Write(view.data(), view.size());
  }  // joins the reader thread: `crc` is complete
  impl->Finish();
  behind.Finish();
}

}  // namespace outpost::codec
