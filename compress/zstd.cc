#include "compress/zstd.h"

#include <zstd.h>
#include <zstd_errors.h>

#include <algorithm>
#include <bit>

#include "common/error.h"

namespace outpost::compress {

void ZstdCCtxFree::operator()(ZSTD_CCtx* c) const { ZSTD_freeCCtx(c); }
void ZstdDCtxFree::operator()(ZSTD_DCtx* d) const { ZSTD_freeDCtx(d); }

namespace {

constexpr int kMinLog = 10;  // zstd's smallest window (ZSTD_WINDOWLOG_MIN)

// A compression failure: the caller's parameters or pledged size, or memory.
[[noreturn]] void CompressionFailed(size_t rc, std::string_view step) {
  if (ZSTD_getErrorCode(rc) == ZSTD_error_memory_allocation) {
    throw IOError("zstd ", step, ": out of memory");
  }
  throw InvalidArgument("zstd ", step, " refused: ", ZSTD_getErrorName(rc));
}

void CheckC(size_t rc, std::string_view step) {
  if (ZSTD_isError(rc)) CompressionFailed(rc, step);
}

void Set(ZSTD_CCtx* cctx, ZSTD_cParameter p, int value, std::string_view name) {
  size_t rc = ZSTD_CCtx_setParameter(cctx, p, value);
  if (ZSTD_isError(rc)) CompressionFailed(rc, Concat("parameter ", name, "=", std::to_string(value)));
}

ZstdCCtxPtr NewCCtx() {
  ZstdCCtxPtr cctx(ZSTD_createCCtx());
  if (!cctx) throw IOError("zstd: out of memory for a compression context");
  return cctx;
}

ZstdDCtxPtr NewDCtx(int max_window_log) {
  ZstdDCtxPtr dctx(ZSTD_createDCtx());
  if (!dctx) throw IOError("zstd: out of memory for a decompression context");
  size_t rc = ZSTD_DCtx_setParameter(dctx.get(), ZSTD_d_windowLogMax, max_window_log);
  if (ZSTD_isError(rc)) {
    throw InvalidArgument("zstd window bound 2^", std::to_string(max_window_log), " refused: ", ZSTD_getErrorName(rc));
  }
  return dctx;
}

// Applies everything but the pledged size (set per frame) and hold_back (the writer's).
void Apply(ZSTD_CCtx* cctx, const ZstdParams& p) {
  Set(cctx, ZSTD_c_compressionLevel, p.level, "level");
  Set(cctx, ZSTD_c_checksumFlag, p.checksum ? 1 : 0, "checksum");
  Set(cctx, ZSTD_c_contentSizeFlag, p.content_size ? 1 : 0, "content size");
  if (p.workers != 0) Set(cctx, ZSTD_c_nbWorkers, p.workers, "workers");
  if (p.window_log != 0) Set(cctx, ZSTD_c_windowLog, p.window_log, "window log");
  if (p.hash_log != 0) Set(cctx, ZSTD_c_hashLog, p.hash_log, "hash log");
  if (p.chain_log != 0) Set(cctx, ZSTD_c_chainLog, p.chain_log, "chain log");
  if (p.long_distance) Set(cctx, ZSTD_c_enableLongDistanceMatching, 1, "long distance matching");
}

void Pledge(ZSTD_CCtx* cctx, uint64_t size) { CheckC(ZSTD_CCtx_setPledgedSrcSize(cctx, size), "pledged size"); }

// Smallest window log covering `n` bytes, at least zstd's minimum.
int LogCovering(uint64_t n) { return n <= 1 ? kMinLog : std::max<int>(std::bit_width(n - 1), kMinLog); }

[[noreturn]] void DecompressionFailed(size_t rc, std::string_view where, int max_window_log) {
  if (ZSTD_getErrorCode(rc) == ZSTD_error_frameParameter_windowTooLarge) {
    throw Unsupported(where, "zstd frame window is larger than ", std::to_string(uint64_t{1} << (max_window_log - 20)),
                      " MiB");
  }
  throw Corruption(where, "zstd data is corrupt (", ZSTD_getErrorName(rc), ")");
}

}  // namespace

ZstdWriter::ZstdWriter(Writer& out, const ZstdParams& params)
    : out_(out),
      params_(params),
      cctx_(NewCCtx()),
      buf_(std::make_unique<uint8_t[]>(ZSTD_CStreamOutSize())),
      streaming_(params.hold_back == 0) {
  Apply(cctx_.get(), params_);
  if (params_.size) Pledge(cctx_.get(), *params_.size);
}

ZstdWriter::~ZstdWriter() = default;

void ZstdWriter::Write(const uint8_t* data, size_t n) {
  if (n == 0) return;
  if (!streaming_ && held_.size() + n <= params_.hold_back) {
    held_.append(reinterpret_cast<const char*>(data), n);
    return;
  }
  Release();
  Drive(data, n, false);
}

void ZstdWriter::Release() {
  if (streaming_) return;
  streaming_ = true;
  std::string held = std::move(held_);
  Drive(reinterpret_cast<const uint8_t*>(held.data()), held.size(), false);
}

void ZstdWriter::Finish() {
  if (!streaming_) {
    streaming_ = true;
    int log = LogCovering(held_.size());
    Set(cctx_.get(), ZSTD_c_hashLog, std::max(log - 2, kMinLog), "hash log");
    Set(cctx_.get(), ZSTD_c_chainLog, log + 1, "chain log");
    if (!params_.size) Pledge(cctx_.get(), held_.size());
    std::string held = std::move(held_);
    return Drive(reinterpret_cast<const uint8_t*>(held.data()), held.size(), true);
  }
  Drive(nullptr, 0, true);
}

void ZstdWriter::Drive(const uint8_t* data, size_t n, bool end) {
  ZSTD_inBuffer in{data, n, 0};
  for (;;) {
    ZSTD_outBuffer out{buf_.get(), ZSTD_CStreamOutSize(), 0};
    size_t left = ZSTD_compressStream2(cctx_.get(), &out, &in, end ? ZSTD_e_end : ZSTD_e_continue);
    CheckC(left, "compression");
    if (out.pos > 0) out_.Write(buf_.get(), out.pos);
    if (end ? left == 0 : in.pos == in.size) return;
  }
}

ZstdReader::ZstdReader(Reader& in, std::string what, ZstdReadOptions options)
    : in_(in),
      what_(std::move(what)),
      options_(options),
      dctx_(NewDCtx(options.max_window_log)),
      input_(std::make_unique<uint8_t[]>(ZSTD_DStreamInSize())),
      frame_open_(options.one_frame) {}

ZstdReader::~ZstdReader() = default;

std::string ZstdReader::Where() const { return what_.empty() ? std::string() : what_ + ": "; }

// Reads more input when all is used; false at the end of `in`.
bool ZstdReader::Refill() {
  if (input_pos_ < input_size_) return true;
  if (input_eof_) return false;
  input_size_ = in_.Read(input_.get(), ZSTD_DStreamInSize());
  input_pos_ = 0;
  input_eof_ = input_size_ == 0;
  return !input_eof_;
}

void ZstdReader::CheckNothingAfterFrame() {
  if (Refill()) throw Corruption(Where(), "zstd data continues after its frame");
}

size_t ZstdReader::Read(uint8_t* buf, size_t n) {
  if (n == 0) return 0;
  while (!done_) {
    if (!Refill()) {
      if (frame_open_) throw Corruption(Where(), "zstd data is truncated (a frame is incomplete)");
      done_ = true;
      break;
    }
    ZSTD_inBuffer in{input_.get(), input_size_, input_pos_};
    ZSTD_outBuffer out{buf, n, 0};
    size_t hint = ZSTD_decompressStream(dctx_.get(), &out, &in);
    if (ZSTD_isError(hint)) DecompressionFailed(hint, Where(), options_.max_window_log);
    input_pos_ = in.pos;
    frame_open_ = hint != 0;
    if (options_.one_frame && !frame_open_) done_ = true;
    if (out.pos > 0) return out.pos;
  }
  if (options_.one_frame) CheckNothingAfterFrame();
  return 0;
}

std::string ZstdCompress(std::string_view data, const ZstdParams& params, std::string_view prefix) {
  // One context per thread, reused: a fresh one per call pays for allocating and zeroing the
  // slow levels' large tables (fresh pages from the kernel) every time.
  thread_local ZstdCCtxPtr reused;
  if (!reused) reused = NewCCtx();
  ZSTD_CCtx* cctx = reused.get();
  CheckC(ZSTD_CCtx_reset(cctx, ZSTD_reset_session_and_parameters), "reset");
  Apply(cctx, params);
  if (!prefix.empty()) CheckC(ZSTD_CCtx_refPrefix(cctx, prefix.data(), prefix.size()), "reference prefix");
  std::string out(ZSTD_compressBound(data.size()), '\0');
  size_t rc = ZSTD_compress2(cctx, out.data(), out.size(), data.data(), data.size());
  CheckC(rc, "compression");
  out.resize(rc);
  return out;
}

std::string ZstdDecompress(std::string_view frame, std::string_view prefix, uint64_t expected_size,
                           std::string_view what, int max_window_log) {
  std::string where = Concat(what, ": ");
  unsigned long long declared = ZSTD_getFrameContentSize(frame.data(), frame.size());
  if (declared != expected_size) throw Corruption(where, "zstd frame has the wrong size");
  ZstdDCtxPtr dctx = NewDCtx(max_window_log);
  if (!prefix.empty()) {
    size_t rc = ZSTD_DCtx_refPrefix(dctx.get(), prefix.data(), prefix.size());
    if (ZSTD_isError(rc)) throw IOError(where, "zstd reference prefix refused: ", ZSTD_getErrorName(rc));
  }
  std::string out(expected_size, '\0');
  size_t rc = ZSTD_decompressDCtx(dctx.get(), out.data(), out.size(), frame.data(), frame.size());
  if (ZSTD_isError(rc)) DecompressionFailed(rc, where, max_window_log);
  if (rc != expected_size) throw Corruption(where, "zstd frame has the wrong size");
  return out;
}

std::optional<uint64_t> ZstdDeclaredSize(std::string_view frame) {
  unsigned long long n = ZSTD_getFrameContentSize(frame.data(), frame.size());
  if (n == ZSTD_CONTENTSIZE_ERROR || n == ZSTD_CONTENTSIZE_UNKNOWN) return std::nullopt;
  return n;
}

std::optional<size_t> ZstdFrameLength(std::string_view data) {
  size_t n = ZSTD_findFrameCompressedSize(data.data(), data.size());
  if (ZSTD_isError(n)) return std::nullopt;
  return n;
}

size_t ZstdCompressBound(size_t n) { return ZSTD_compressBound(n); }

}  // namespace outpost::compress
