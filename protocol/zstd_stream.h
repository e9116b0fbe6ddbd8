// Streaming zstd for bundle payloads: documents and whole layers are stored as zstd frames.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "common/io.h"

namespace outpost::protocol {

// Compresses everything written into one zstd frame written to `out` (which must outlive this
// object). Finish() ends the frame; without it the frame is incomplete.
class ZstdWriter : public Writer {
 public:
  // `size`, when known, is the exact number of bytes that will be written: declared in the frame
  // and used to size zstd's tables (a small input then costs a small context). Writing another
  // count fails at Finish.
  ZstdWriter(Writer& out, int level, std::optional<uint64_t> size = std::nullopt);
  ~ZstdWriter() override;
  ZstdWriter(const ZstdWriter&) = delete;
  ZstdWriter& operator=(const ZstdWriter&) = delete;
  using Writer::Write;
  void Write(const uint8_t* data, size_t n) override;
  void Finish();

 private:
  void Drive(const uint8_t* data, size_t n, bool end);
  Writer& out_;
  void* ctx_;  // ZSTD_CCtx*
  std::unique_ptr<uint8_t[]> buf_;
};

// Decompresses zstd frames read from `in` (which must outlive this object). Throws Corruption
// naming `what` for a malformed or truncated stream.
class ZstdReader : public Reader {
 public:
  ZstdReader(Reader& in, std::string what);
  ~ZstdReader() override;
  ZstdReader(const ZstdReader&) = delete;
  ZstdReader& operator=(const ZstdReader&) = delete;
  size_t Read(uint8_t* buf, size_t n) override;

 private:
  Reader& in_;
  std::string what_;
  void* ctx_;  // ZSTD_DCtx*
  std::unique_ptr<uint8_t[]> in_buf_;
  size_t in_pos_ = 0;
  size_t in_size_ = 0;
  bool in_eof_ = false;
  bool frame_open_ = false;
};

// One-shot helpers for small documents.
std::string ZstdCompress(std::string_view data, int level);

}  // namespace outpost::protocol
