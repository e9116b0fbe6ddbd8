#include "delta/zstd_util.h"

#include <algorithm>
#include <bit>
#include <memory>

#include "common/error.h"

namespace outpost::delta {
namespace {

void Check(size_t rc, std::string_view what) {
  if (ZSTD_isError(rc)) throw Corruption(what, ": ", ZSTD_getErrorName(rc));
}

// Smallest window log covering `n` bytes, within zstd's and our bounds.
int WindowLogFor(uint64_t n) {
  int log = n <= 1 ? 10 : static_cast<int>(std::bit_width(n - 1));
  return std::clamp(log, 10, kMaxWindowLog);
}

// One compression context per thread, reused: a fresh context per call pays for allocating and
// zeroing the large tables of the slow levels (fresh pages from the kernel) every time. Results
// do not depend on what the context compressed before.
ZSTD_CCtx* ReusedContext() {
  struct Holder {
    ZSTD_CCtx* cctx = ZSTD_createCCtx();
    ~Holder() { ZSTD_freeCCtx(cctx); }
  };
  thread_local Holder holder;
  if (holder.cctx == nullptr) throw IOError("ZSTD_createCCtx failed (out of memory?)");
  ZSTD_CCtx_reset(holder.cctx, ZSTD_reset_session_and_parameters);
  return holder.cctx;
}

}  // namespace

std::string CompressWithPrefix(std::string_view data, std::string_view prefix, int level) {
  ZSTD_CCtx* cctx = ReusedContext();
  size_t bound = ZSTD_compressBound(data.size());
  auto out = std::make_unique_for_overwrite<char[]>(bound);
  size_t rc = ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel, level);
  if (!prefix.empty()) {
    int log = WindowLogFor(prefix.size() + data.size());
    ZSTD_CCtx_setParameter(cctx, ZSTD_c_windowLog, std::max(log, 17));
    // Long-distance matching finds the reference at every level (without it the fast levels'
    // match finders may miss the prefix entirely).
    ZSTD_CCtx_setParameter(cctx, ZSTD_c_enableLongDistanceMatching, 1);
    ZSTD_CCtx_refPrefix(cctx, prefix.data(), prefix.size());
  }
  if (!ZSTD_isError(rc)) rc = ZSTD_compress2(cctx, out.get(), bound, data.data(), data.size());
  Check(rc, "zstd compression");
  return std::string(out.get(), rc);
}

std::string DecompressWithPrefix(std::string_view frame, std::string_view prefix,
                                 uint64_t expected_size, std::string_view what) {
  unsigned long long declared = ZSTD_getFrameContentSize(frame.data(), frame.size());
  if (declared != expected_size) throw Corruption(what, ": zstd frame has the wrong size");
  ZSTD_DCtx* dctx = ZSTD_createDCtx();
  ZSTD_DCtx_setParameter(dctx, ZSTD_d_windowLogMax, kMaxWindowLog);
  if (!prefix.empty()) ZSTD_DCtx_refPrefix(dctx, prefix.data(), prefix.size());
  std::string out(expected_size, '\0');
  size_t rc = ZSTD_decompressDCtx(dctx, out.data(), out.size(), frame.data(), frame.size());
  ZSTD_freeDCtx(dctx);
  if (ZSTD_isError(rc)) throw Corruption(what, ": ", ZSTD_getErrorName(rc));
  if (rc != expected_size) throw Corruption(what, ": zstd frame has the wrong size");
  return out;
}

ZstdFrameWriter::ZstdFrameWriter(Writer& out, int level, int window_log)
    : out_(out), cctx_(ZSTD_createCCtx()), buf_(ZSTD_CStreamOutSize(), '\0') {
  ZSTD_CCtx_setParameter(cctx_, ZSTD_c_compressionLevel, level);
  ZSTD_CCtx_setParameter(cctx_, ZSTD_c_windowLog, window_log);
  ZSTD_CCtx_setParameter(cctx_, ZSTD_c_checksumFlag, 1);
}

ZstdFrameWriter::~ZstdFrameWriter() { ZSTD_freeCCtx(cctx_); }

void ZstdFrameWriter::Write(const uint8_t* data, size_t n) {
  if (!streaming_ && held_.size() + n <= kFrameBufferBytes) {
    held_.append(reinterpret_cast<const char*>(data), n);
    return;
  }
  Release();
  Drive(data, n, ZSTD_e_continue);
}

void ZstdFrameWriter::Release() {
  if (streaming_) return;
  streaming_ = true;
  std::string held = std::move(held_);
  Drive(reinterpret_cast<const uint8_t*>(held.data()), held.size(), ZSTD_e_continue);
}

void ZstdFrameWriter::Finish() {
  if (!streaming_) {
    // zstd shrinks the window to the size, but its match tables stay large at the slow levels
    // (16 MiB for 600 KB at level 19) where an eighth of the size finds the same matches
    // (measured on the corpus's op streams: the same bytes to a few per million). At most
    // 2 + 4 MiB of tables, about the fast levels' own.
    int log = WindowLogFor(held_.size());
    ZSTD_CCtx_setParameter(cctx_, ZSTD_c_hashLog, std::max(log - 2, 10));
    ZSTD_CCtx_setParameter(cctx_, ZSTD_c_chainLog, log + 1);
    Check(ZSTD_CCtx_setPledgedSrcSize(cctx_, held_.size()), "zstd compression");
    streaming_ = true;
    std::string held = std::move(held_);
    return Drive(reinterpret_cast<const uint8_t*>(held.data()), held.size(), ZSTD_e_end);
  }
  Drive(nullptr, 0, ZSTD_e_end);
}

void ZstdFrameWriter::Drive(const uint8_t* data, size_t n, ZSTD_EndDirective mode) {
  ZSTD_inBuffer in{data, n, 0};
  for (;;) {
    ZSTD_outBuffer out{buf_.data(), buf_.size(), 0};
    size_t left = ZSTD_compressStream2(cctx_, &out, &in, mode);
    Check(left, "zstd compression");
    if (out.pos > 0) out_.Write(reinterpret_cast<const uint8_t*>(buf_.data()), out.pos);
    bool done = mode == ZSTD_e_end ? left == 0 : in.pos == in.size;
    if (done) return;
  }
}

ZstdFrameReader::ZstdFrameReader(outpost::Reader& in, std::string what)
    : in_(in), what_(std::move(what)), dctx_(ZSTD_createDCtx()), in_buf_(ZSTD_DStreamInSize(), '\0') {
  ZSTD_DCtx_setParameter(dctx_, ZSTD_d_windowLogMax, kMaxWindowLog);
}

ZstdFrameReader::~ZstdFrameReader() { ZSTD_freeDCtx(dctx_); }

size_t ZstdFrameReader::Read(uint8_t* buf, size_t n) {
  while (!frame_done_) {
    if (input_.pos == input_.size && !input_done_) {
      size_t got = in_.Read(reinterpret_cast<uint8_t*>(in_buf_.data()), in_buf_.size());
      input_ = ZSTD_inBuffer{in_buf_.data(), got, 0};
      input_done_ = got == 0;
    }
    ZSTD_outBuffer out{buf, n, 0};
    size_t rc = ZSTD_decompressStream(dctx_, &out, &input_);
    if (ZSTD_isError(rc)) throw Corruption(what_, " is corrupt: ", ZSTD_getErrorName(rc));
    frame_done_ = rc == 0;
    if (out.pos > 0) return out.pos;
    if (!frame_done_ && input_done_ && input_.pos == input_.size) {
      throw Corruption(what_, " is truncated");
    }
  }
  uint8_t extra;
  if (input_.pos != input_.size || in_.Read(&extra, 1) != 0) {
    throw Corruption(what_, " has unexpected bytes after its end");
  }
  return 0;
}

}  // namespace outpost::delta
