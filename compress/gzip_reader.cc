#include "compress/gzip_reader.h"

#include <isa-l/igzip_lib.h>

#include <algorithm>
#include <cstring>

#include "common/error.h"

namespace outpost::compress {
namespace {

// Big enough that read syscalls and inflate calls are amortised; the header of a member must
// fit too (FEXTRA is at most 64 KiB; longer FNAME/FCOMMENT fields are rejected as corrupt).
constexpr size_t kInputBytes = 256 << 10;
// igzip reads ahead up to 8 bytes into its bit buffer; at a member's end those bytes belong to
// the trailer, so refills keep that many consumed bytes to step back over.
constexpr size_t kReadAheadBytes = 8;

uint32_t LoadLe32(const uint8_t* p) {
  return uint32_t{p[0]} | uint32_t{p[1]} << 8 | uint32_t{p[2]} << 16 | uint32_t{p[3]} << 24;
}

const char* IsalError(int rc) {
  switch (rc) {
    case ISAL_INVALID_BLOCK: return "invalid block";
    case ISAL_INVALID_SYMBOL: return "invalid symbol";
    case ISAL_INVALID_LOOKBACK: return "distance too far back";
    default: return "inflate error";
  }
}

}  // namespace

// Raw deflate through ISA-L's igzip (several times zlib's speed), tracking the gzip CRC32 of
// the output; GzipReader parses the headers and checks the trailers itself.
struct GzipReader::Inflater {
  inflate_state state;
  Inflater() { Reset(); }
  void Reset() {
    isal_inflate_init(&state);
    state.crc_flag = ISAL_GZIP_NO_HDR;
  }
  // Whole bytes igzip has taken from the input but not used: the start of the trailer.
  size_t UnusedBytes() const { return static_cast<size_t>(state.read_in_length) / 8; }
};

GzipReader::GzipReader(Reader& compressed, std::function<void(const GzipMember&)> on_member)
    : in_(compressed),
      on_member_(std::move(on_member)),
      input_(std::make_unique<uint8_t[]>(kInputBytes)),
      inflater_(std::make_unique<Inflater>()) {}

GzipReader::~GzipReader() = default;

// Moves unread input to the front and reads more; false if the input is at its end.
bool GzipReader::FillInput() {
  if (input_eof_) return false;
  size_t keep = std::min(input_pos_, kReadAheadBytes);
  size_t drop = input_pos_ - keep;
  std::memmove(input_.get(), input_.get() + drop, input_end_ - drop);
  input_offset_ += drop;
  input_end_ -= drop;
  input_pos_ = keep;
  size_t got = in_.Read(input_.get() + input_end_, kInputBytes - input_end_);
  if (got == 0) input_eof_ = true;
  input_end_ += got;
  return got > 0;
}

// Parses the next member's header; false at a clean end of the stream.
bool GzipReader::StartMember() {
  if (input_pos_ == input_end_) FillInput();
  for (;;) {
    std::string_view avail(reinterpret_cast<const char*>(input_.get() + input_pos_), input_end_ - input_pos_);
    uint64_t offset = input_offset_ + input_pos_;
    if (avail.empty() && input_eof_) {
      if (members_ == 0) throw Corruption("gzip stream is empty");
      return false;
    }
    std::optional<GzipHeader> header;
    try {
      header = GzipHeader::Parse(avail);
    } catch (const Error& e) {
      if (members_ > 0) throw Corruption("unexpected bytes after gzip member ", std::to_string(members_), " at offset ", std::to_string(offset), ": ", e.what());
      throw;
    }
    if (header) {
      input_pos_ += header->raw.size();
      member_ = GzipMember{};
      member_.offset = offset;
      member_.body_offset = offset + header->raw.size();
      member_.header = std::move(*header);
      if (!first_header_) first_header_ = member_.header;
      in_member_ = true;
      return true;
    }
    if (avail.size() >= kInputBytes - kReadAheadBytes) throw Corruption("gzip header at offset ", std::to_string(offset), " is longer than ", std::to_string(kInputBytes), " bytes");
    if (!FillInput()) throw Corruption("gzip stream ends inside the header of member ", std::to_string(members_ + 1));
  }
}

void GzipReader::FinishMember() {
  while (input_end_ - input_pos_ < kGzipTrailerBytes) {
    if (!FillInput()) throw Corruption("gzip stream ends inside the trailer of member ", std::to_string(members_ + 1));
  }
  const uint8_t* t = input_.get() + input_pos_;
  std::string where = Concat("gzip member ", std::to_string(members_ + 1), " at offset ", std::to_string(member_.offset));
  if (LoadLe32(t) != member_.crc) throw Corruption(where, ": CRC32 mismatch (data is corrupt)");
  if (LoadLe32(t + 4) != static_cast<uint32_t>(member_.uncompressed_size)) throw Corruption(where, ": ISIZE mismatch (data is corrupt)");
  input_pos_ += kGzipTrailerBytes;
  member_.end_offset = input_offset_ + input_pos_;
  ++members_;
  in_member_ = false;
  inflater_->Reset();
  if (on_member_) on_member_(member_);
}

size_t GzipReader::Read(uint8_t* buf, size_t n) {
  inflate_state& z = inflater_->state;
  while (!done_ && n > 0) {
    if (!in_member_ && !StartMember()) {
      done_ = true;
      break;
    }
    if (input_pos_ == input_end_) FillInput();
    z.next_in = input_.get() + input_pos_;
    z.avail_in = static_cast<uint32_t>(input_end_ - input_pos_);
    z.next_out = buf;
    z.avail_out = static_cast<uint32_t>(std::min<size_t>(n, UINT32_MAX));
    int ret = isal_inflate(&z);
    input_pos_ = input_end_ - z.avail_in;
    size_t produced = z.next_out - buf;
    member_.uncompressed_size += produced;
    if (ret < 0) {
      throw Corruption("gzip member ", std::to_string(members_ + 1), " has invalid deflate data near offset ",
                       std::to_string(input_offset_ + input_pos_), ": ", IsalError(ret));
    }
    if (z.block_state == ISAL_BLOCK_FINISH) {
      input_pos_ -= inflater_->UnusedBytes();  // kept by FillInput
      member_.crc = z.crc;
      FinishMember();
    } else if (produced == 0 && input_eof_ && input_pos_ == input_end_) {
      throw Corruption("gzip stream is truncated inside member ", std::to_string(members_ + 1));
    }
    if (produced > 0) return produced;
  }
  return 0;
}

std::vector<GzipMember> InspectGzip(Reader& compressed) {
  std::vector<GzipMember> members;
  GzipReader r(compressed, [&](const GzipMember& m) { members.push_back(m); });
  NullWriter sink;
  Copy(r, sink);
  return members;
}

}  // namespace outpost::compress
