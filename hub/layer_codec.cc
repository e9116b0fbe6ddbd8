#include "hub/layer_codec.h"

#include <zlib.h>

#include "common/error.h"
#include "protocol/zstd_stream.h"

namespace outpost::hub {
namespace {

// Multi-member gzip decoder over zlib. Used until the exact codec provides its own decoder.
class GzipReader : public Reader {
 public:
  GzipReader(std::unique_ptr<Reader> in, std::string what)
      : in_(std::move(in)), what_(std::move(what)), buf_(std::make_unique<uint8_t[]>(kBufferBytes)) {
    if (inflateInit2(&z_, 16 + MAX_WBITS) != Z_OK) throw IOError("zlib: cannot start inflate");
  }
  ~GzipReader() override { inflateEnd(&z_); }
  GzipReader(const GzipReader&) = delete;
  GzipReader& operator=(const GzipReader&) = delete;

  size_t Read(uint8_t* out, size_t n) override {
    if (n == 0) return 0;
    for (;;) {
      if (z_.avail_in == 0 && !eof_) {
        z_.avail_in = static_cast<uInt>(in_->Read(buf_.get(), kBufferBytes));
        z_.next_in = buf_.get();
        eof_ = z_.avail_in == 0;
      }
      if (z_.avail_in == 0 && eof_) {
        if (in_member_) throw Corruption(what_, ": gzip stream is truncated");
        return 0;
      }
      if (!in_member_) {
        inflateReset(&z_);
        in_member_ = true;
      }
      z_.next_out = out;
      z_.avail_out = static_cast<uInt>(std::min<size_t>(n, UINT32_MAX));
      int rc = inflate(&z_, Z_NO_FLUSH);
      if (rc == Z_STREAM_END) {
        in_member_ = false;
      } else if (rc != Z_OK && rc != Z_BUF_ERROR) {
        throw Corruption(what_, ": bad gzip data (", z_.msg ? z_.msg : "inflate error", ")");
      }
      size_t got = n - z_.avail_out;
      if (got > 0) return got;
    }
  }

 private:
  static constexpr size_t kBufferBytes = 256 << 10;
  std::unique_ptr<Reader> in_;
  std::string what_;
  std::unique_ptr<uint8_t[]> buf_;
  z_stream z_{};
  bool eof_ = false;
  bool in_member_ = false;
};

// Keeps the compressed reader alive under a ZstdReader.
class OwningZstdReader : public Reader {
 public:
  OwningZstdReader(std::unique_ptr<Reader> in, std::string what)
      : in_(std::move(in)), zstd_(*in_, std::move(what)) {}
  size_t Read(uint8_t* buf, size_t n) override { return zstd_.Read(buf, n); }

 private:
  std::unique_ptr<Reader> in_;
  protocol::ZstdReader zstd_;
};

}  // namespace

std::unique_ptr<Reader> Uncompress(std::unique_ptr<Reader> blob, image::Compression compression,
                                   std::string what) {
  switch (compression) {
    case image::Compression::kNone:
      return blob;
    case image::Compression::kGzip:
      return std::make_unique<GzipReader>(std::move(blob), std::move(what));
    case image::Compression::kZstd:
      return std::make_unique<OwningZstdReader>(std::move(blob), std::move(what));
  }
  throw Unsupported(what, ": unknown compression");
}

RecipeResult ProbeRecipe(const std::filesystem::path&, image::Compression compression) {
  if (compression == image::Compression::kNone) return {std::string(), ""};
  return {std::nullopt, "no exact codec in this build"};
}

void RebuildBlob(Reader& tar, std::string_view recipe, Writer& out) {
  if (!recipe.empty()) {
    throw InvalidArgument("recipe \"", std::string(recipe), "\" is not known to this outpost build");
  }
  Copy(tar, out);
}

}  // namespace outpost::hub
