#include "protocol/bundle_file.h"

#include <algorithm>
#include <cstring>

#include "common/error.h"
#include "compress/zstd.h"

namespace outpost::protocol {
namespace {

constexpr char kMagic[8] = {'O', 'U', 'T', 'P', 'O', 'S', 'T', 'B'};
constexpr size_t kChunkEntryBytes = 32 + 4;
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

uint32_t GetU32(const uint8_t* p) {
  return uint32_t{p[0]} | uint32_t{p[1]} << 8 | uint32_t{p[2]} << 16 | uint32_t{p[3]} << 24;
}

// Reads the file front to back through ReadAt, checking every read against the file size so a
// truncated bundle is reported as such rather than as a short read.
class Cursor {
 public:
  Cursor(const RandomAccess& file, const std::filesystem::path& path) : file_(file), path_(path) {}

  std::string Take(uint64_t n, std::string_view what) {
    if (n > file_.size() - pos_) {
      throw Corruption("bundle ", path_.string(), " is truncated (ends inside the ", std::string(what), ")");
    }
    std::string out(n, '\0');
    file_.ReadAt(pos_, reinterpret_cast<uint8_t*>(out.data()), n);
    pos_ += n;
    return out;
  }
  uint32_t TakeU32(std::string_view what) {
    std::string b = Take(4, what);
    return GetU32(reinterpret_cast<const uint8_t*>(b.data()));
  }
  uint64_t pos() const { return pos_; }

 private:
  const RandomAccess& file_;
  const std::filesystem::path& path_;
  uint64_t pos_ = 0;
};

// Serves payload bytes [offset, offset+length) chunk by chunk, each chunk verified first.
class PayloadReader : public Reader {
 public:
  PayloadReader(const BundleReader& bundle, const std::vector<uint64_t>& chunk_offsets,
                uint64_t offset, uint64_t length)
      : bundle_(bundle), chunk_offsets_(chunk_offsets), pos_(offset), end_(offset + length) {}

  size_t Read(uint8_t* buf, size_t n) override {
    if (pos_ >= end_ || n == 0) return 0;
    auto it = std::upper_bound(chunk_offsets_.begin(), chunk_offsets_.end(), pos_);
    size_t index = static_cast<size_t>(it - chunk_offsets_.begin()) - 1;
    if (index != loaded_) {
      bundle_.ReadChunk(index, &chunk_);
      loaded_ = index;
    }
    uint64_t in_chunk = pos_ - chunk_offsets_[index];
    size_t k = static_cast<size_t>(std::min<uint64_t>({n, chunk_.size() - in_chunk, end_ - pos_}));
    std::memcpy(buf, chunk_.data() + in_chunk, k);
    pos_ += k;
    return k;
  }

 private:
  const BundleReader& bundle_;
  const std::vector<uint64_t>& chunk_offsets_;
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

// The header JSON of a version 2 bundle, from its zstd frame. Throws Corruption when the frame
// is damaged or decodes to more than kMaxHeaderBytes.
std::string UnpackHeader(std::string stored) {
  StringReader in(std::move(stored));
  compress::ZstdReader json(in, "header");
  return ReadAll(json, kMaxHeaderBytes);
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

BundleReader::BundleReader(const std::filesystem::path& path) : path_(path), file_(path) {
  Cursor cur(file_, path_);
  if (file_.size() < sizeof(kMagic) || cur.Take(sizeof(kMagic), "magic") != std::string(kMagic, sizeof(kMagic))) {
    throw Corruption(path.string(), " is not an outpost bundle (no OUTPOSTB magic)");
  }
  version_ = cur.TakeU32("version");
  if (version_ == 0 || version_ > kFormatVersion) {
    throw Unsupported("bundle ", path.string(), " is format version ", std::to_string(version_),
                      "; this outpost reads versions 1 to ", std::to_string(kFormatVersion),
                      ": upgrade outpost to apply it");
  }
  uint32_t header_len = cur.TakeU32("header length");
  if (header_len > kMaxHeaderBytes) throw Corruption("bundle ", path.string(), ": header length is implausible");
  std::string stored = cur.Take(header_len, "header");
  uint32_t count = cur.TakeU32("chunk count");
  if (count > kMaxChunks) throw Corruption("bundle ", path.string(), ": chunk count is implausible");
  std::string table = cur.Take(uint64_t{count} * kChunkEntryBytes, "chunk table");
  signed_bytes_.resize(cur.pos());
  file_.ReadAt(0, reinterpret_cast<uint8_t*>(signed_bytes_.data()), signed_bytes_.size());
  uint32_t sig_len = cur.TakeU32("signature length");
  if (sig_len != 0 && sig_len != kPublicKeyBytes + kSignatureBytes) {
    throw Corruption("bundle ", path.string(), ": signature block has ", std::to_string(sig_len), " bytes");
  }
  std::string sig = cur.Take(sig_len, "signature");
  if (sig_len != 0) {
    signer_.emplace();
    signature_.emplace();
    std::memcpy(signer_->data(), sig.data(), kPublicKeyBytes);
    std::memcpy(signature_->data(), sig.data() + kPublicKeyBytes, kSignatureBytes);
  }
  payload_start_ = cur.pos();
  try {
    header_ = Header::FromJson(version_ == 1 ? stored : UnpackHeader(stored));
  } catch (const Error& e) {
    throw Corruption(path.string(), ": ", e.what());
  }
  uint64_t total = 0;
  for (uint32_t i = 0; i < count; ++i) {
    const auto* p = reinterpret_cast<const uint8_t*>(table.data()) + i * kChunkEntryBytes;
    std::array<uint8_t, 32> bytes;
    std::memcpy(bytes.data(), p, 32);
    uint32_t len = GetU32(p + 32);
    if (len == 0 || len > kChunkBytes) throw Corruption("bundle ", path.string(), ": chunk ", std::to_string(i), " has an invalid length");
    chunks_.push_back({Digest(bytes), len});
    chunk_offsets_.push_back(total);
    total += len;
  }
  if (total != header_.payload_bytes) {
    throw Corruption("bundle ", path.string(), ": chunk table covers ", std::to_string(total),
                     " bytes but the header says ", std::to_string(header_.payload_bytes));
  }
  if (file_.size() != payload_start_ + total) {
    throw Corruption("bundle ", path.string(), " is ", file_.size() < payload_start_ + total ? "truncated" : "too long",
                     ": ", std::to_string(file_.size()), " bytes, expected ", std::to_string(payload_start_ + total));
  }
}

void BundleReader::VerifySignature(const SigningKey& key) const {
  if (!signature_) throw SecurityError("bundle ", path_.string(), " is not signed, and --verify-key demands a signature");
  if (*signer_ != key.public_key()) {
    throw SecurityError("bundle ", path_.string(), " is signed by ", KeyFingerprint(*signer_),
                        ", not by the expected key ", KeyFingerprint(key.public_key()));
  }
  if (!key.Verify(signed_bytes_, *signature_)) {
    throw SecurityError("bundle ", path_.string(), ": the signature does not match its header and chunk table (tampered)");
  }
}

void BundleReader::ReadChunk(size_t i, std::string* out) const {
  out->resize(chunks_[i].length);
  file_.ReadAt(payload_start_ + chunk_offsets_[i], reinterpret_cast<uint8_t*>(out->data()), out->size());
  if (Digest::Of(*out) != chunks_[i].digest) {
    throw Corruption("bundle ", path_.string(), ": chunk ", std::to_string(i), " (",
                     chunks_[i].digest.short_hex(), ") fails its sha256 check: the bundle is damaged");
  }
}

void BundleReader::VerifyChunks() const {
  std::string buf;
  for (size_t i = 0; i < chunks_.size(); ++i) ReadChunk(i, &buf);
}

std::unique_ptr<Reader> BundleReader::OpenRawSpan(uint64_t offset, uint64_t length) const {
  return std::make_unique<PayloadReader>(*this, chunk_offsets_, offset, length);
}

std::unique_ptr<Reader> DecodeSpan(std::unique_ptr<Reader> raw, Encoding encoding, std::string what) {
  if (encoding == Encoding::kRaw) return raw;
  return std::make_unique<DecodedSpan>(std::move(raw), std::move(what));
}

std::unique_ptr<Reader> BundleReader::OpenSpan(const Span& span, std::string what) const {
  return DecodeSpan(OpenRawSpan(span.offset, span.length), span.encoding, std::move(what));
}

std::string BundleReader::ReadDocument(const Document& doc, std::string_view what) const {
  auto r = OpenSpan(doc.payload, std::string(what));
  std::string bytes = ReadAll(*r);
  if (bytes.size() != doc.size || Digest::Of(bytes) != doc.digest) {
    throw Corruption("bundle ", path_.string(), ": ", std::string(what), " does not match ", doc.digest.str());
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
