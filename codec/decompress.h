// Streaming decoders for layer blobs: gzip (multi-member, every header field kept, CRC32 and
// ISIZE checked per member), zstd (multi-frame, skippable frames) and uncompressed passthrough.
// Each holds a fixed amount of memory whatever the layer size.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "codec/gzip_format.h"
#include "common/io.h"
#include "image/image.h"

namespace outpost::codec {

// One gzip member as the decoder saw it.
struct GzipMember {
  GzipHeader header;
  uint64_t offset = 0;             // compressed offset of the member's first header byte
  uint64_t body_offset = 0;        // compressed offset of its deflate data
  uint64_t end_offset = 0;         // compressed offset just past its trailer
  uint64_t uncompressed_size = 0;  // bytes this member decompressed to
  uint32_t crc = 0;                // its CRC32 (checked against the trailer)
};

// Decompresses a gzip stream read from `compressed` (which must outlive this object). Members
// are decoded one after another as one stream. Throws Corruption, naming the member and offset,
// for a bad header, bad deflate data, a CRC32 or ISIZE mismatch, a truncated stream, or bytes
// after the last member that are not another member.
class GzipReader : public Reader {
 public:
  // `on_member`, if given, is called as each member's trailer has been checked.
  explicit GzipReader(Reader& compressed, std::function<void(const GzipMember&)> on_member = {});
  ~GzipReader() override;
  GzipReader(const GzipReader&) = delete;
  GzipReader& operator=(const GzipReader&) = delete;

  size_t Read(uint8_t* buf, size_t n) override;

  // The first member's header; nullopt until the first Read.
  const std::optional<GzipHeader>& first_header() const { return first_header_; }
  // Members fully decoded so far.
  uint64_t member_count() const { return members_; }

 private:
  bool FillInput();
  bool StartMember();
  void FinishMember();

  Reader& in_;
  std::function<void(const GzipMember&)> on_member_;
  std::unique_ptr<uint8_t[]> input_;
  size_t input_pos_ = 0;
  size_t input_end_ = 0;
  uint64_t input_offset_ = 0;  // compressed offset of input_[0]
  bool input_eof_ = false;
  struct Inflater;
  std::unique_ptr<Inflater> inflater_;
  GzipMember member_;
  bool in_member_ = false;
  bool done_ = false;
  uint64_t members_ = 0;
  std::optional<GzipHeader> first_header_;
};

// Decompresses a zstd stream (any number of frames; skippable frames are skipped). Throws
// Corruption for bad or truncated frames and Unsupported for a frame whose window exceeds
// 128 MiB (the memory bound).
class ZstdReader : public Reader {
 public:
  explicit ZstdReader(Reader& compressed);
  ~ZstdReader() override;
  ZstdReader(const ZstdReader&) = delete;
  ZstdReader& operator=(const ZstdReader&) = delete;
  size_t Read(uint8_t* buf, size_t n) override;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

// A reader of the uncompressed stream behind `compressed` (which must outlive the result):
// GzipReader, ZstdReader, or `compressed` itself passed through for kNone.
std::unique_ptr<Reader> OpenDecompressed(Reader& compressed, image::Compression compression);

// The same, owning `compressed`, for a store or the hub turning a named blob into its tar: every
// error a read throws (from the decoder or from `compressed`) keeps its kind and has its message
// prefixed with `what` (e.g. "layer sha256:...") unless it starts with it already. kNone returns
// `compressed` itself.
std::unique_ptr<Reader> OpenDecompressed(std::unique_ptr<Reader> compressed, image::Compression compression,
                                         std::string what);

// Decodes a whole gzip stream and returns every member's description (for inspecting small
// streams: a changelog inside a layer, a test blob). Throws like GzipReader.
std::vector<GzipMember> InspectGzip(Reader& compressed);

}  // namespace outpost::codec
