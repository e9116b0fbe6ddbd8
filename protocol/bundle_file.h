// Bundle files: writing and reading the container (versions 1 and 2) (docs/bundle-format.md).
//
//   magic "OUTPOSTB" | u32 version | u32 header length | header JSON | u32 chunk count |
//   chunk table (sha256, u32 length) | u32 signature length | signature | payload chunks
//
// The signature (Ed25519, detached) covers every byte before the signature length field: the
// header and the chunk table, and through the chunk hashes every payload byte.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/digest.h"
#include "common/file.h"
#include "common/io.h"
#include "protocol/bundle.h"
#include "protocol/signing.h"

namespace outpost::protocol {

// Payload chunk size. A lost chunk is re-sent alone: at 100 kbit/s 1 MiB is about 90 s of link,
// and the chunk table costs 36 bytes per MiB.
inline constexpr uint32_t kChunkBytes = 1 << 20;
// Upper bounds a reader enforces before allocating anything.
inline constexpr uint32_t kMaxHeaderBytes = 64 << 20;
inline constexpr uint32_t kMaxChunks = 16 << 20;

struct ChunkRef {
  Digest digest;
  uint32_t length = 0;
};

// Accumulates a payload (spooled to a temp file under `scratch`) and writes the bundle.
class BundleWriter {
 public:
  explicit BundleWriter(const std::filesystem::path& scratch);

  // The next payload offset.
  uint64_t offset() const { return chunker_.count(); }
  // Appends raw bytes to the payload (through the chunker).
  Writer& payload() { return chunker_; }
  // Appends `data` as one zstd frame and returns its span.
  Span AppendZstd(std::string_view data);
  // Appends everything `in` yields as one zstd frame at `level` and returns its span.
  Span AppendZstd(Reader& in, int level);
  // Appends everything `in` yields as is and returns its span.
  Span AppendRaw(Reader& in);
  // Reads back the bytes of a span already appended, decoded (for the hub's proof, which must
  // rebuild from exactly the bytes that ship).
  std::unique_ptr<Reader> ReadBack(const Span& span) const;

  // Sets header.payload_bytes, writes the bundle to `path` atomically, signed when `key` is
  // given. Throws IOError; on failure `path` is left as it was.
  void Finish(Header header, const std::filesystem::path& path, const SigningKey* key);

 private:
  // Writes payload bytes to the spool file, hashing each kChunkBytes piece.
  class Chunker : public Writer {
   public:
    explicit Chunker(const std::filesystem::path& spool);
    using Writer::Write;
    void Write(const uint8_t* data, size_t n) override;
    std::vector<ChunkRef> Finish();
    uint64_t count() const { return spool_.bytes_written(); }
    const std::filesystem::path& path() const { return spool_.temp_path(); }

   private:
    AtomicFile spool_;  // never committed: the temp file is the spool, removed with it
    std::unique_ptr<Sha256> sha_;
    uint32_t in_chunk_ = 0;
    std::vector<ChunkRef> chunks_;
  };

  Chunker chunker_;
};

// A bundle opened for reading. Construction parses and bounds-checks the header and chunk
// table against the file size (a truncated file is Corruption); payload bytes are checked
// against their chunk's sha256 whenever they are read.
class BundleReader {
 public:
  // Throws NotFound, Corruption (not a bundle, truncated, inconsistent), Unsupported (a newer
  // format version, with the versions this build reads).
  explicit BundleReader(const std::filesystem::path& path);

  const Header& header() const { return header_; }
  uint32_t version() const { return version_; }
  const std::vector<ChunkRef>& chunks() const { return chunks_; }
  uint64_t file_size() const { return file_.size(); }
  // The signer's public key, when the bundle is signed.
  const std::optional<PublicKeyBytes>& signer() const { return signer_; }

  // Throws Security unless the bundle carries a valid signature by `key`.
  void VerifySignature(const SigningKey& key) const;
  // Reads every chunk and checks its sha256; throws Corruption naming the first bad chunk.
  void VerifyChunks() const;
  // The decoded bytes of a payload span (zstd decoded when the span says so).
  std::unique_ptr<Reader> OpenSpan(const Span& span, std::string what) const;
  // A span's bytes as stored (still encoded), each chunk verified.
  std::unique_ptr<Reader> OpenRawSpan(uint64_t offset, uint64_t length) const;
  // A small document span read whole (manifest, config).
  std::string ReadDocument(const Document& doc, std::string_view what) const;

  // Reads chunk `i` (verified) into `out`.
  void ReadChunk(size_t i, std::string* out) const;

 private:
  std::filesystem::path path_;
  RandomAccessFile file_;
  uint32_t version_ = 0;
  Header header_;
  std::vector<ChunkRef> chunks_;
  std::vector<uint64_t> chunk_offsets_;  // payload offset of each chunk
  uint64_t payload_start_ = 0;           // file offset of the payload
  std::string signed_bytes_;
  std::optional<PublicKeyBytes> signer_;
  std::optional<SignatureBytes> signature_;
};

// Wraps the stored bytes of a span so reads return them decoded (`what` names it in errors).
std::unique_ptr<Reader> DecodeSpan(std::unique_ptr<Reader> raw, Encoding encoding, std::string what);

// True when the file starts with the bundle magic (for `outpost inspect` to tell bundles from
// image references).
bool LooksLikeBundle(const std::filesystem::path& path);

}  // namespace outpost::protocol
