#include "compress/decompress.h"

#include "common/error.h"
#include "compress/gzip_reader.h"
#include "compress/zstd.h"

namespace outpost::compress {

std::unique_ptr<Reader> OpenDecompressed(Reader& compressed, Compression compression) {
  struct Passthrough : Reader {
    explicit Passthrough(Reader& r) : inner(r) {}
    size_t Read(uint8_t* buf, size_t n) override { return inner.Read(buf, n); }
    Reader& inner;
  };
  switch (compression) {
    case Compression::kGzip: return std::make_unique<GzipReader>(compressed);
    case Compression::kZstd: return std::make_unique<ZstdReader>(compressed, "");
    case Compression::kNone: break;
  }
  return std::make_unique<Passthrough>(compressed);
}

namespace {

// Owns the compressed stream and its decoder; names the blob in every error.
class NamedDecompressor : public Reader {
 public:
  NamedDecompressor(std::unique_ptr<Reader> compressed, Compression compression, std::string what)
      : compressed_(std::move(compressed)),
        decoder_(OpenDecompressed(*compressed_, compression)),
        what_(std::move(what)) {}
  size_t Read(uint8_t* buf, size_t n) override {
    try {
      return decoder_->Read(buf, n);
    } catch (const Error& e) {
      if (std::string_view(e.what()).starts_with(what_)) throw;  // `compressed` named it already
      throw Error(e.kind(), Concat(what_, ": ", e.what()));
    }
  }

 private:
  std::unique_ptr<Reader> compressed_;
  std::unique_ptr<Reader> decoder_;
  std::string what_;
};

}  // namespace

std::unique_ptr<Reader> OpenDecompressed(std::unique_ptr<Reader> compressed, Compression compression,
                                         std::string what) {
  if (compression == Compression::kNone) return compressed;
  return std::make_unique<NamedDecompressor>(std::move(compressed), compression, std::move(what));
}

}  // namespace outpost::compress
