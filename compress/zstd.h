// The one zstd layer: a streaming writer, a streaming reader and one-shot helpers, each over a
// libzstd context owned by a unique_ptr. Every parameter libzstd refuses becomes an
// outpost::Error: InvalidArgument for a parameter or pledged size the caller got wrong, IO for
// memory, Corruption (or Unsupported for a window beyond the reader's bound) for bad input.
//
// The exact codec (codec/), the delta format (delta/) and the bundle (protocol/) pick the
// parameters; this file only applies them, so their bytes depend on ZstdParams alone.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "common/io.h"

struct ZSTD_CCtx_s;
struct ZSTD_DCtx_s;

namespace outpost::compress {

// The decoder's default window bound, 2^27 = 128 MiB: libzstd's own default and the memory a
// layer decoder may take.
inline constexpr int kDefaultMaxWindowLog = 27;

// Compression parameters. A zero or unset field leaves libzstd's choice for the level.
struct ZstdParams {
  int level = 3;
  bool checksum = false;       // ZSTD_c_checksumFlag: an XXH64 of the content ends the frame
  bool content_size = true;    // ZSTD_c_contentSizeFlag: declare the size when it is known
  int workers = 0;             // ZSTD_c_nbWorkers (0: compress on the calling thread)
  int window_log = 0;          // ZSTD_c_windowLog
  int hash_log = 0;            // ZSTD_c_hashLog
  int chain_log = 0;           // ZSTD_c_chainLog
  bool long_distance = false;  // ZSTD_c_enableLongDistanceMatching
  // The exact number of bytes that will be written: declared in the frame (with content_size)
  // and used to size the tables. Writing another count fails at Finish with InvalidArgument.
  std::optional<uint64_t> size = std::nullopt;
  // Streaming only: the first `hold_back` bytes are kept before compressing. A stream that
  // ends within them is compressed knowing its size: declared in the frame, the window sized to
  // it, and the match tables at a quarter (hash) and twice (chain) the window, which at the
  // slow levels finds the same matches as their 16 MiB tables (measured on delta op streams)
  // for a fraction of the memory to zero. A longer stream streams with the parameters above.
  size_t hold_back = 0;
};

struct ZstdCCtxFree {
  void operator()(ZSTD_CCtx_s* c) const;
};
struct ZstdDCtxFree {
  void operator()(ZSTD_DCtx_s* d) const;
};
using ZstdCCtxPtr = std::unique_ptr<ZSTD_CCtx_s, ZstdCCtxFree>;
using ZstdDCtxPtr = std::unique_ptr<ZSTD_DCtx_s, ZstdDCtxFree>;

// Compresses everything written into one zstd frame written to `out` (which must outlive this
// object). Finish() ends the frame; destroying the writer without it leaves a partial frame.
class ZstdWriter : public Writer {
 public:
  // Throws InvalidArgument for a parameter libzstd refuses, IOError when out of memory.
  ZstdWriter(Writer& out, const ZstdParams& params);
  ~ZstdWriter() override;
  ZstdWriter(const ZstdWriter&) = delete;
  ZstdWriter& operator=(const ZstdWriter&) = delete;
  using Writer::Write;
  void Write(const uint8_t* data, size_t n) override;
  void Finish();

 private:
  void Drive(const uint8_t* data, size_t n, bool end);
  void Release();  // starts streaming what was held back

  Writer& out_;
  ZstdParams params_;
  ZstdCCtxPtr cctx_;
  std::unique_ptr<uint8_t[]> buf_;
  std::string held_;
  bool streaming_;
};

// How a ZstdReader reads.
struct ZstdReadOptions {
  int max_window_log = kDefaultMaxWindowLog;  // a larger frame window is Unsupported
  // Exactly one frame: an empty input is truncated, and bytes after the frame are Corruption
  // (reported once the frame is read). Otherwise any number of frames, skippable ones skipped.
  bool one_frame = false;
};

// Decompresses zstd read from `in` (which must outlive this object). Errors name `what` (empty:
// no prefix): Corruption for damaged or truncated data, Unsupported for a frame whose window
// exceeds options.max_window_log.
class ZstdReader : public Reader {
 public:
  ZstdReader(Reader& in, std::string what, ZstdReadOptions options = {});
  ~ZstdReader() override;
  ZstdReader(const ZstdReader&) = delete;
  ZstdReader& operator=(const ZstdReader&) = delete;
  size_t Read(uint8_t* buf, size_t n) override;

 private:
  bool Refill();
  void CheckNothingAfterFrame();
  std::string Where() const;

  Reader& in_;
  std::string what_;
  ZstdReadOptions options_;
  ZstdDCtxPtr dctx_;
  std::unique_ptr<uint8_t[]> input_;
  size_t input_pos_ = 0;
  size_t input_size_ = 0;
  bool input_eof_ = false;
  bool frame_open_;
  bool done_ = false;
};

// Compresses `data` into one frame (params.size is set to data.size()), with `prefix` as a
// reference the decoder must be given again (empty: none). Uses a context kept per thread: the
// slow levels' large tables are allocated once, and the bytes do not depend on earlier calls.
std::string ZstdCompress(std::string_view data, const ZstdParams& params, std::string_view prefix = {});

// Decompresses one frame made with `prefix`. Throws Corruption naming `what` unless it decodes
// to exactly `expected_size` bytes; Unsupported for a window beyond `max_window_log`.
std::string ZstdDecompress(std::string_view frame, std::string_view prefix, uint64_t expected_size,
                           std::string_view what, int max_window_log = kDefaultMaxWindowLog);

// The content size the zstd frame at the front of `frame` declares; nullopt when it declares
// none or `frame` does not start with a zstd frame header.
std::optional<uint64_t> ZstdDeclaredSize(std::string_view frame);

// The length of the whole zstd frame at the front of `data`; nullopt when `data` does not start
// with a complete frame.
std::optional<size_t> ZstdFrameLength(std::string_view data);

// The most bytes compressing `n` bytes into one frame can take.
size_t ZstdCompressBound(size_t n);

}  // namespace outpost::compress
