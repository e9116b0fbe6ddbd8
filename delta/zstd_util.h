// zstd helpers shared by the delta encoder and applier: one-shot compression with a reference
// prefix (the old file a new one is encoded against) and a streaming frame writer/reader for the
// delta's outer stream.
#pragma once

#include <zstd.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "common/io.h"

namespace outpost::delta {

// Largest window (log2) a delta may ask the decoder for: 2^28 = 256 MiB covers a reference
// window plus a target window (kWindowBytes each, with margins).
inline constexpr int kMaxWindowLog = 28;

// Compresses `data` at `level` using `prefix` as reference (empty: no reference). The window is
// sized to cover prefix + data, with long-distance matching for large inputs. Never fails on
// valid input (throws Corruption only if zstd reports an internal error).
std::string CompressWithPrefix(std::string_view data, std::string_view prefix, int level);

// Decompresses one frame made by CompressWithPrefix with the same `prefix`. Throws Corruption
// unless the frame decodes to exactly `expected_size` bytes.
std::string DecompressWithPrefix(std::string_view frame, std::string_view prefix,
                                 uint64_t expected_size, std::string_view what);

// A Writer that compresses everything into one checksummed zstd frame written to `out`.
// Finish() ends the frame; destroying without Finish() leaves `out` with a partial frame. The
// first kFrameBufferBytes are held back: a stream that ends within them is compressed knowing
// its size (declared in the frame, tables and window sized to it, not to `window_log`, which
// saves zeroing tens of MiB of tables at the slow levels); a longer one streams with
// `window_log` and the level's tables.
class ZstdFrameWriter : public Writer {
 public:
  ZstdFrameWriter(Writer& out, int level, int window_log);
  ~ZstdFrameWriter() override;
  ZstdFrameWriter(const ZstdFrameWriter&) = delete;
  ZstdFrameWriter& operator=(const ZstdFrameWriter&) = delete;
  using Writer::Write;
  void Write(const uint8_t* data, size_t n) override;
  void Finish();

 private:
  static constexpr size_t kFrameBufferBytes = 4 << 20;

  void Drive(const uint8_t* data, size_t n, ZSTD_EndDirective mode);
  // Starts streaming: compresses what was held back.
  void Release();

  Writer& out_;
  ZSTD_CCtx* cctx_;
  std::string buf_;
  std::string held_;       // input not compressed yet (at most kFrameBufferBytes)
  bool streaming_ = false;  // held_ has been released: the size is unknown
};

// A Reader over one zstd frame read from `in`. Reports the end of stream only after the frame
// ended with a valid checksum and `in` has nothing after it; throws Corruption (naming `what`)
// for a truncated or damaged frame or trailing bytes.
class ZstdFrameReader : public outpost::Reader {
 public:
  ZstdFrameReader(outpost::Reader& in, std::string what);
  ~ZstdFrameReader() override;
  ZstdFrameReader(const ZstdFrameReader&) = delete;
  ZstdFrameReader& operator=(const ZstdFrameReader&) = delete;
  size_t Read(uint8_t* buf, size_t n) override;

 private:
  outpost::Reader& in_;
  std::string what_;
  ZSTD_DCtx* dctx_;
  std::string in_buf_;
  ZSTD_inBuffer input_{nullptr, 0, 0};
  bool frame_done_ = false;
  bool input_done_ = false;
};

}  // namespace outpost::delta
