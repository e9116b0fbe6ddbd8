#include "storage/decompress.h"

#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <vector>

#include "common/error.h"

namespace outpost::storage {
namespace {

constexpr size_t kInputBytes = 128 << 10;  // one refill of compressed input

// Inflates every gzip member of `inner` in turn.
class GzipReader : public Reader {
 public:
  GzipReader(std::unique_ptr<Reader> inner, std::string what)
      : inner_(std::move(inner)), what_(std::move(what)), in_(kInputBytes) {
    if (inflateInit2(&z_, 16 + MAX_WBITS) != Z_OK) throw IOError(what_, ": cannot initialise zlib");
  }
  ~GzipReader() override { inflateEnd(&z_); }
  GzipReader(const GzipReader&) = delete;
  GzipReader& operator=(const GzipReader&) = delete;

  size_t Read(uint8_t* buf, size_t n) override {
    if (n == 0) return 0;
    z_.next_out = buf;
    z_.avail_out = static_cast<uInt>(std::min<size_t>(n, 1u << 30));
    while (z_.next_out == buf) {  // until some output is produced
      if (z_.avail_in == 0 && !Refill()) {
        if (!in_member_) return 0;
        throw Corruption(what_, ": truncated gzip stream");
      }
      if (!in_member_) {
        inflateReset(&z_);
        in_member_ = true;
      }
      int rc = inflate(&z_, Z_NO_FLUSH);
      if (rc == Z_STREAM_END) {
        in_member_ = false;
      } else if (rc != Z_OK && rc != Z_BUF_ERROR) {
        throw Corruption(what_, ": corrupt gzip stream (", z_.msg ? z_.msg : "zlib error", ")");
      }
    }
    return static_cast<size_t>(z_.next_out - buf);
  }

 private:
  bool Refill() {
    size_t got = inner_->Read(in_.data(), in_.size());
    z_.next_in = in_.data();
    z_.avail_in = static_cast<uInt>(got);
    return got > 0;
  }

  std::unique_ptr<Reader> inner_;
  std::string what_;
  std::vector<uint8_t> in_;
  z_stream z_{};
  bool in_member_ = true;
};

// Decompresses every zstd frame of `inner` in turn.
class ZstdReader : public Reader {
 public:
  ZstdReader(std::unique_ptr<Reader> inner, std::string what)
      : inner_(std::move(inner)), what_(std::move(what)), in_(ZSTD_DStreamInSize()), z_(ZSTD_createDStream()) {
    if (z_ == nullptr) throw IOError(what_, ": cannot initialise zstd");
  }
  ~ZstdReader() override { ZSTD_freeDStream(z_); }
  ZstdReader(const ZstdReader&) = delete;
  ZstdReader& operator=(const ZstdReader&) = delete;

  size_t Read(uint8_t* buf, size_t n) override {
    if (n == 0) return 0;
    ZSTD_outBuffer out{buf, n, 0};
    while (out.pos == 0) {
      if (input_.pos == input_.size) {
        size_t got = inner_->Read(in_.data(), in_.size());
        if (got == 0) {
          if (pending_ != 0) throw Corruption(what_, ": truncated zstd stream");
          return 0;
        }
        input_ = ZSTD_inBuffer{in_.data(), got, 0};
      }
      pending_ = ZSTD_decompressStream(z_, &out, &input_);
      if (ZSTD_isError(pending_)) {
        throw Corruption(what_, ": corrupt zstd stream (", ZSTD_getErrorName(pending_), ")");
      }
    }
    return out.pos;
  }

 private:
  std::unique_ptr<Reader> inner_;
  std::string what_;
  std::vector<uint8_t> in_;
  ZSTD_DStream* z_;
  ZSTD_inBuffer input_{nullptr, 0, 0};
  size_t pending_ = 0;
};

}  // namespace

std::unique_ptr<Reader> NewDecompressingReader(std::unique_ptr<Reader> inner, image::Compression kind,
                                               std::string what) {
  switch (kind) {
    case image::Compression::kGzip: return std::make_unique<GzipReader>(std::move(inner), std::move(what));
    case image::Compression::kZstd: return std::make_unique<ZstdReader>(std::move(inner), std::move(what));
    case image::Compression::kNone: break;
  }
  return inner;
}

std::optional<GzipHeader> ParseGzipHeader(std::string_view b) {
  constexpr uint8_t kFlagExtra = 4, kFlagName = 8;
  if (b.size() < 10 || b[0] != '\x1f' || b[1] != '\x8b') return std::nullopt;
  auto byte = [&](size_t i) { return static_cast<uint8_t>(b[i]); };
  GzipHeader h;
  h.flags = byte(3);
  h.mtime = static_cast<uint32_t>(byte(4)) | static_cast<uint32_t>(byte(5)) << 8 |
            static_cast<uint32_t>(byte(6)) << 16 | static_cast<uint32_t>(byte(7)) << 24;
  h.xfl = byte(8);
  h.os = byte(9);
  size_t pos = 10;
  if (h.flags & kFlagExtra) {
    if (b.size() < pos + 2) return std::nullopt;
    pos += 2 + (byte(pos) | static_cast<size_t>(byte(pos + 1)) << 8);
  }
  if (h.flags & kFlagName) {
    size_t end = b.find('\0', pos);
    if (end == std::string_view::npos) return std::nullopt;
    h.fname = std::string(b.substr(pos, end - pos));
  }
  return h;
}

}  // namespace outpost::storage
