#include "protocol/zstd_stream.h"

#include <zstd.h>

#include "common/error.h"

namespace outpost::protocol {
namespace {

ZSTD_CCtx* C(void* p) { return static_cast<ZSTD_CCtx*>(p); }
ZSTD_DCtx* D(void* p) { return static_cast<ZSTD_DCtx*>(p); }

}  // namespace

ZstdWriter::ZstdWriter(Writer& out, int level, std::optional<uint64_t> size)
    : out_(out), ctx_(ZSTD_createCCtx()), buf_(std::make_unique<uint8_t[]>(ZSTD_CStreamOutSize())) {
  if (ctx_ == nullptr) throw IOError("zstd: out of memory");
  ZSTD_CCtx_setParameter(C(ctx_), ZSTD_c_compressionLevel, level);
  ZSTD_CCtx_setParameter(C(ctx_), ZSTD_c_checksumFlag, 1);
  if (size) ZSTD_CCtx_setPledgedSrcSize(C(ctx_), *size);
}

ZstdWriter::~ZstdWriter() { ZSTD_freeCCtx(C(ctx_)); }

void ZstdWriter::Write(const uint8_t* data, size_t n) { Drive(data, n, false); }

void ZstdWriter::Finish() { Drive(nullptr, 0, true); }

void ZstdWriter::Drive(const uint8_t* data, size_t n, bool end) {
  ZSTD_inBuffer in{data, n, 0};
  for (;;) {
    ZSTD_outBuffer out{buf_.get(), ZSTD_CStreamOutSize(), 0};
    size_t left = ZSTD_compressStream2(C(ctx_), &out, &in, end ? ZSTD_e_end : ZSTD_e_continue);
    if (ZSTD_isError(left)) throw IOError("zstd compression failed: ", ZSTD_getErrorName(left));
    out_.Write(buf_.get(), out.pos);
    if (end ? left == 0 : in.pos == in.size) return;
  }
}

ZstdReader::ZstdReader(Reader& in, std::string what)
    : in_(in), what_(std::move(what)), ctx_(ZSTD_createDCtx()),
      in_buf_(std::make_unique<uint8_t[]>(ZSTD_DStreamInSize())) {
  if (ctx_ == nullptr) throw IOError("zstd: out of memory");
}

ZstdReader::~ZstdReader() { ZSTD_freeDCtx(D(ctx_)); }

size_t ZstdReader::Read(uint8_t* buf, size_t n) {
  if (n == 0) return 0;
  for (;;) {
    if (in_pos_ == in_size_ && !in_eof_) {
      in_size_ = in_.Read(in_buf_.get(), ZSTD_DStreamInSize());
      in_pos_ = 0;
      in_eof_ = in_size_ == 0;
    }
    if (in_eof_ && in_pos_ == in_size_) {
      if (frame_open_) throw Corruption(what_, ": zstd stream ends inside a frame");
      return 0;
    }
    ZSTD_inBuffer in{in_buf_.get(), in_size_, in_pos_};
    ZSTD_outBuffer out{buf, n, 0};
    size_t rc = ZSTD_decompressStream(D(ctx_), &out, &in);
    if (ZSTD_isError(rc)) throw Corruption(what_, ": bad zstd data (", ZSTD_getErrorName(rc), ")");
    in_pos_ = in.pos;
    frame_open_ = rc != 0;
    if (out.pos > 0) return out.pos;
  }
}

std::string ZstdCompress(std::string_view data, int level) {
  StringWriter sink;
  ZstdWriter z(sink, level, data.size());
  z.Write(reinterpret_cast<const uint8_t*>(data.data()), data.size());
  z.Finish();
  return std::move(sink.str());
}

}  // namespace outpost::protocol
