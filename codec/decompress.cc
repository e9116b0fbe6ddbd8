#include "codec/decompress.h"

#include <isa-l/igzip_lib.h>
#include <zstd.h>
#include <zstd_errors.h>

#include <algorithm>
#include <cstring>

#include "common/error.h"

namespace outpost::codec {
namespace {

// Big enough that read syscalls and inflate calls are amortised; the header of a member must
// fit too (FEXTRA is at most 64 KiB; longer FNAME/FCOMMENT fields are rejected as corrupt).
constexpr size_t kInputBytes = 256 << 10;
constexpr int kZstdMaxWindowLog = 27;  // 128 MiB: zstd's default limit, and our memory bound
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

struct ZstdReader::State {
  Reader& in;
  ZSTD_DCtx* dctx;
  std::unique_ptr<uint8_t[]> input = std::make_unique<uint8_t[]>(ZSTD_DStreamInSize());
  ZSTD_inBuffer in_buf{input.get(), 0, 0};
  size_t last_hint = 0;  // 0 when the last frame is complete
  bool eof = false;

  explicit State(Reader& r) : in(r), dctx(ZSTD_createDCtx()) {
    if (dctx == nullptr) throw IOError("ZSTD_createDCtx failed (out of memory?)");
    ZSTD_DCtx_setParameter(dctx, ZSTD_d_windowLogMax, kZstdMaxWindowLog);
  }
  ~State() { ZSTD_freeDCtx(dctx); }
};

ZstdReader::ZstdReader(Reader& compressed) : state_(std::make_unique<State>(compressed)) {}
ZstdReader::~ZstdReader() = default;

size_t ZstdReader::Read(uint8_t* buf, size_t n) {
  State& s = *state_;
  ZSTD_outBuffer out{buf, n, 0};
  while (out.pos == 0 && n > 0) {
    if (s.in_buf.pos == s.in_buf.size) {
      if (s.eof) break;
      s.in_buf.size = s.in.Read(s.input.get(), ZSTD_DStreamInSize());
      s.in_buf.pos = 0;
      if (s.in_buf.size == 0) {
        s.eof = true;
        if (s.last_hint != 0) throw Corruption("zstd stream is truncated (a frame is incomplete)");
        break;
      }
    }
    size_t hint = ZSTD_decompressStream(s.dctx, &out, &s.in_buf);
    if (ZSTD_isError(hint)) {
      if (ZSTD_getErrorCode(hint) == ZSTD_error_frameParameter_windowTooLarge) {
        throw Unsupported("zstd frame window is larger than ", std::to_string(1 << (kZstdMaxWindowLog - 20)), " MiB");
      }
      throw Corruption("zstd stream is corrupt: ", ZSTD_getErrorName(hint));
    }
    s.last_hint = hint;
  }
  return out.pos;
}

std::unique_ptr<Reader> OpenDecompressed(Reader& compressed, image::Compression compression) {
  struct Passthrough : Reader {
    explicit Passthrough(Reader& r) : inner(r) {}
    size_t Read(uint8_t* buf, size_t n) override { return inner.Read(buf, n); }
    Reader& inner;
  };
  switch (compression) {
    case image::Compression::kGzip: return std::make_unique<GzipReader>(compressed);
    case image::Compression::kZstd: return std::make_unique<ZstdReader>(compressed);
    case image::Compression::kNone: break;
  }
  return std::make_unique<Passthrough>(compressed);
}

namespace {

// Owns the compressed stream and its decoder; names the blob in every error.
class NamedDecompressor : public Reader {
 public:
  NamedDecompressor(std::unique_ptr<Reader> compressed, image::Compression compression, std::string what)
      : compressed_(std::move(compressed)),
        decoder_(OpenDecompressed(*compressed_, compression)),
        what_(std::move(what)) {}
  size_t Read(uint8_t* buf, size_t n) override {
    try {
      return decoder_->Read(buf, n);
    } catch (const Error& e) {
      if (std::string_view(e.what()).starts_with(what_)) throw;  // `compressed` named it already
      throw Error(e.kind(), Concat(what_, ": ", e.what()));
    }
  }

 private:
  std::unique_ptr<Reader> compressed_;
  std::unique_ptr<Reader> decoder_;
  std::string what_;
};

}  // namespace

std::unique_ptr<Reader> OpenDecompressed(std::unique_ptr<Reader> compressed, image::Compression compression,
                                         std::string what) {
  if (compression == image::Compression::kNone) return compressed;
  return std::make_unique<NamedDecompressor>(std::move(compressed), compression, std::move(what));
}

std::vector<GzipMember> InspectGzip(Reader& compressed) {
  std::vector<GzipMember> members;
  GzipReader r(compressed, [&](const GzipMember& m) { members.push_back(m); });
  NullWriter sink;
  Copy(r, sink);
  return members;
}

}  // namespace outpost::codec
