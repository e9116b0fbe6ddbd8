#include "protocol/bundle_file.h"

#include <algorithm>
#include <cstring>

#include "common/error.h"
#include "compress/zstd.h"

namespace outpost::protocol {
namespace {

constexpr char kMagic[8] = {'O', 'U', 'T', 'P', 'O', 'S', 'T', 'B'};
constexpr int kDocumentZstdLevel = 19;

// A document (header, manifest, config) as one streamed, checksummed zstd frame that declares
// its size: small, so the slow level costs little.
std::string PackDocument(std::string_view data) {
  StringWriter sink;
  compress::ZstdWriter z(sink, compress::ZstdParams{.level = kDocumentZstdLevel, .checksum = true, .size = data.size()});
  z.Write(data);
  z.Finish();
  return std::move(sink.str());
}

void PutU32(std::string* out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out->push_back(static_cast<char>(v >> (8 * i) & 0xff));
}


// Serves payload bytes [offset, offset+length) chunk by chunk, each chunk verified first.
class PayloadReader : public Reader {
 public:
  PayloadReader(const BundleReader& bundle, uint64_t offset, uint64_t length)
      : bundle_(bundle), pos_(offset), end_(offset + length) {}

  size_t Read(uint8_t* buf, size_t n) override {
    if (pos_ >= end_ || n == 0) return 0;
    size_t index = bundle_.head().ChunkAt(pos_);
    if (index != loaded_) {
      bundle_.ReadChunk(index, &chunk_);
      loaded_ = index;
    }
    uint64_t in_chunk = pos_ - bundle_.head().ChunkOffset(index);
    size_t k = static_cast<size_t>(std::min<uint64_t>({n, chunk_.size() - in_chunk, end_ - pos_}));
    std::memcpy(buf, chunk_.data() + in_chunk, k);
    pos_ += k;
    return k;
  }

 private:
  const BundleReader& bundle_;
  uint64_t pos_;
  uint64_t end_;
  size_t loaded_ = SIZE_MAX;
  std::string chunk_;
};

// Owns the raw reader a ZstdReader decodes.
class DecodedSpan : public Reader {
 public:
  DecodedSpan(std::unique_ptr<Reader> raw, std::string what)
      : raw_(std::move(raw)), zstd_(*raw_, std::move(what)) {}
  size_t Read(uint8_t* buf, size_t n) override { return zstd_.Read(buf, n); }

 private:
  std::unique_ptr<Reader> raw_;
  compress::ZstdReader zstd_;
};

// Heads are read in one piece when they fit in this: a head is about 1 KB plus 36 bytes per MiB
// of payload.
constexpr uint64_t kFirstHeadRead = 64 << 10;

std::string ReadRange(const RandomAccess& file, uint64_t n) {
  std::string out(n, '\0');
  file.ReadAt(0, reinterpret_cast<uint8_t*>(out.data()), n);
  return out;
}

}  // namespace

BundleWriter::Chunker::Chunker(const std::filesystem::path& spool)
    : spool_(spool), sha_(std::make_unique<Sha256>()) {}

void BundleWriter::Chunker::Write(const uint8_t* data, size_t n) {
  while (n > 0) {
    size_t k = std::min<size_t>(n, kChunkBytes - in_chunk_);
    sha_->Update(data, k);
    spool_.Write(data, k);
    in_chunk_ += static_cast<uint32_t>(k);
    data += k;
    n -= k;
    if (in_chunk_ == kChunkBytes) {
      chunks_.push_back({sha_->Finish(), in_chunk_});
      sha_ = std::make_unique<Sha256>();
      in_chunk_ = 0;
    }
  }
}

std::vector<ChunkRef> BundleWriter::Chunker::Finish() {
  if (in_chunk_ > 0) {
    chunks_.push_back({sha_->Finish(), in_chunk_});
    sha_ = std::make_unique<Sha256>();
    in_chunk_ = 0;
  }
  return chunks_;
}

BundleWriter::BundleWriter(const std::filesystem::path& scratch) : chunker_(scratch / "payload") {}

Span BundleWriter::AppendZstd(Reader& in, int level) {
  Span span{offset(), 0, Encoding::kZstd};
  compress::ZstdWriter z(chunker_, compress::ZstdParams{.level = level, .checksum = true});
  Copy(in, z);
  z.Finish();
  span.length = offset() - span.offset;
  return span;
}

Span BundleWriter::AppendRaw(Reader& in) {
  Span span{offset(), 0, Encoding::kRaw};
  span.length = Copy(in, chunker_);
  return span;
}

std::unique_ptr<Reader> BundleWriter::ReadBack(const Span& span) const {
  // Owns the file reader under the limit.
  class SpoolSpan : public Reader {
   public:
    SpoolSpan(const std::filesystem::path& path, const Span& s) : file_(path, s.offset), limited_(file_, s.length) {}
    size_t Read(uint8_t* buf, size_t n) override { return limited_.Read(buf, n); }

   private:
    FileReader file_;
    LimitedReader limited_;
  };
  return DecodeSpan(std::make_unique<SpoolSpan>(chunker_.path(), span), span.encoding, "bundle payload");
}

Span BundleWriter::AppendZstd(std::string_view data) {
  Span span{offset(), 0, Encoding::kZstd};
  chunker_.Write(PackDocument(data));
  span.length = offset() - span.offset;
  return span;
}

void BundleWriter::Finish(Header header, const std::filesystem::path& path, const SigningKey* key) {
  header.payload_bytes = offset();
  std::vector<ChunkRef> chunks = chunker_.Finish();
  std::string head(kMagic, sizeof(kMagic));
  PutU32(&head, kFormatVersion);
  std::string packed = PackDocument(header.ToJson());
  PutU32(&head, static_cast<uint32_t>(packed.size()));
  head += packed;
  PutU32(&head, static_cast<uint32_t>(chunks.size()));
  for (const ChunkRef& c : chunks) {
    head.append(reinterpret_cast<const char*>(c.digest.bytes().data()), 32);
    PutU32(&head, c.length);
  }
  std::string sig;
  if (key != nullptr) {
    PublicKeyBytes pub = key->public_key();
    SignatureBytes s = key->Sign(head);
    sig.append(reinterpret_cast<const char*>(pub.data()), pub.size());
    sig.append(reinterpret_cast<const char*>(s.data()), s.size());
  }
  PutU32(&head, static_cast<uint32_t>(sig.size()));
  head += sig;
  AtomicFile out(path);
  out.Write(head);
  FileReader payload(chunker_.path());
  if (Copy(payload, out) != header.payload_bytes) throw IOError("payload spool ", chunker_.path().string(), " changed while writing");
  out.Commit();
}

void RandomAccessChunkSource::ReadChunk(size_t, uint64_t offset, uint32_t length, std::string* out) const {
  out->resize(length);
  file_->ReadAt(payload_start_ + offset, reinterpret_cast<uint8_t*>(out->data()), length);
}

BundleHead ReadHead(const RandomAccess& file, std::string what, const SigningKey* verify_key) {
  // The reads before the last one only measure the head; Parse trusts nothing but the last copy.
  uint64_t size = file.size();
  std::string copy = ReadRange(file, std::min(size, kFirstHeadRead));
  try {
    HeadExtent extent = HeadLength(copy, what);
    while (!extent.complete && extent.bytes <= size && extent.bytes > copy.size()) {
      copy = ReadRange(file, extent.bytes);
      extent = HeadLength(copy, what);
    }
    if (extent.complete && extent.bytes > copy.size() && extent.bytes <= size) copy = ReadRange(file, extent.bytes);
    if (extent.complete) copy.resize(std::min<uint64_t>(copy.size(), extent.bytes));
  } catch (const Error&) {
    // Parse reports it, as Security when a signature is demanded.
  }
  return BundleHead::Parse(std::move(copy), std::move(what), verify_key);
}

BundleReader::BundleReader(const std::filesystem::path& path, const SigningKey* verify_key)
    : BundleReader(std::make_shared<RandomAccessFile>(path), "bundle " + path.string(), verify_key) {}

BundleReader::BundleReader(std::shared_ptr<const RandomAccess> file, std::string what, const SigningKey* verify_key)
    : head_(ReadHead(*file, std::move(what), verify_key)) {
  uint64_t size = file->size();
  if (size != head_.file_bytes()) {
    throw Corruption(head_.what(), " is ", size < head_.file_bytes() ? "truncated" : "too long", ": ",
                     std::to_string(size), " bytes, expected ", std::to_string(head_.file_bytes()));
  }
  source_ = std::make_unique<RandomAccessChunkSource>(std::move(file), head_.head_bytes());
}

BundleReader::BundleReader(BundleHead head, std::unique_ptr<ChunkSource> chunks)
    : head_(std::move(head)), source_(std::move(chunks)) {}

void BundleReader::ReadChunk(size_t i, std::string* out) const {
  const ChunkRef& chunk = head_.chunks()[i];
  source_->ReadChunk(i, head_.ChunkOffset(i), chunk.length, out);
  head_.VerifyChunk(i, *out);
}

void BundleReader::VerifyChunks() const {
  std::string buf;
  for (size_t i = 0; i < head_.chunks().size(); ++i) ReadChunk(i, &buf);
}

std::unique_ptr<Reader> BundleReader::OpenRawSpan(uint64_t offset, uint64_t length) const {
  return std::make_unique<PayloadReader>(*this, offset, length);
}

std::unique_ptr<Reader> DecodeSpan(std::unique_ptr<Reader> raw, Encoding encoding, std::string what) {
  if (encoding == Encoding::kRaw) return raw;
  return std::make_unique<DecodedSpan>(std::move(raw), std::move(what));
}

std::unique_ptr<Reader> BundleReader::OpenSpan(const Span& span, std::string what) const {
  return DecodeSpan(OpenRawSpan(span.offset, span.length), span.encoding, std::move(what));
}

std::string BundleReader::ReadDocument(const Document& doc, std::string_view what) const {
  auto decoded = OpenSpan(doc.payload, std::string(what));
  LimitedReader r(*decoded, doc.size + 1);  // a byte more than declared is enough to refuse it
  std::string bytes = ReadAll(r, doc.size + 1);
  if (bytes.size() != doc.size || Digest::Of(bytes) != doc.digest) {
    throw Corruption(head_.what(), ": ", std::string(what), " does not match ", doc.digest.str(), " (",
                     std::to_string(doc.size), " bytes)");
  }
  return bytes;
}

bool LooksLikeBundle(const std::filesystem::path& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) return false;
  RandomAccessFile f(path);
  if (f.size() < sizeof(kMagic)) return false;
  char magic[sizeof(kMagic)];
  f.ReadAt(0, reinterpret_cast<uint8_t*>(magic), sizeof(magic));
  return std::memcmp(magic, kMagic, sizeof(kMagic)) == 0;
}

}  // namespace outpost::protocol
