// The streaming gzip decoder (multi-member, every header field kept, CRC32 and ISIZE checked per
// member), through ISA-L's igzip. It holds a fixed amount of memory whatever the stream size.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "common/io.h"
#include "compress/gzip_format.h"

namespace outpost::compress {

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

// Decodes a whole gzip stream and returns every member's description (for inspecting small
// streams: a changelog inside a layer, a test blob). Throws like GzipReader.
std::vector<GzipMember> InspectGzip(Reader& compressed);

}  // namespace outpost::compress
