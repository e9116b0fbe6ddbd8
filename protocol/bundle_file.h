// Bundle files: writing and reading the container (versions 1 and 2) (docs/bundle-format.md).
//
//   head (bundle_head.h: magic, version, header, chunk table, signature) | payload chunks
//
// The signature (Ed25519, detached) covers every byte before the signature length field: the
// header and the chunk table, and through the chunk hashes every payload byte. A reader is a
// head (parsed and verified from one in-memory copy) and a chunk source (where the payload
// chunks come from: the bundle file, or a spool a transfer is filling); each chunk is checked
// against its sha256 from the one copy that is then used.
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
#include "protocol/bundle_head.h"
#include "protocol/signing.h"

namespace outpost::protocol {

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

// Where a bundle's payload chunks come from. Implementations need not be thread-safe for
// writing, but ReadChunk may be called from several threads at once.
class ChunkSource {
 public:
  virtual ~ChunkSource() = default;
  // Fills `out` with the `length` bytes stored for chunk `index`, which starts at payload offset
  // `offset`. The bytes are not checked here (the caller checks its copy: BundleHead::VerifyChunk).
  // Throws Corruption when the source is shorter, NotFound/IOError when the chunk is unavailable.
  virtual void ReadChunk(size_t index, uint64_t offset, uint32_t length, std::string* out) const = 0;
};

// Chunks read from bytes addressable at random (a bundle file, a spool) whose payload starts at
// `payload_start`.
class RandomAccessChunkSource : public ChunkSource {
 public:
  RandomAccessChunkSource(std::shared_ptr<const RandomAccess> file, uint64_t payload_start)
      : file_(std::move(file)), payload_start_(payload_start) {}
  void ReadChunk(size_t index, uint64_t offset, uint32_t length, std::string* out) const override;

 private:
  std::shared_ptr<const RandomAccess> file_;
  uint64_t payload_start_;
};

// Reads the head of the bundle in `file` as one copy and parses it (BundleHead::Parse, with its
// errors). Reads at most the head: the first 64 KiB, and the whole head again only when it is
// longer. `what` names the bundle in messages.
BundleHead ReadHead(const RandomAccess& file, std::string what, const SigningKey* verify_key = nullptr);

// A bundle opened for reading: a parsed head and a chunk source. Payload bytes are checked
// against their chunk's sha256 whenever they are read.
class BundleReader {
 public:
  // Opens a bundle file: reads its head (ReadHead, so with `verify_key` the signature is checked
  // before the header is parsed) and checks that the file is exactly head + payload long.
  // Throws NotFound, Corruption (not a bundle, truncated, too long, inconsistent), Unsupported (a
  // newer format version), Security (with `verify_key`: unsigned, another signer, tampered).
  explicit BundleReader(const std::filesystem::path& path, const SigningKey* verify_key = nullptr);
  // The same over any bytes addressable at random (`what` names them in messages).
  BundleReader(std::shared_ptr<const RandomAccess> file, std::string what, const SigningKey* verify_key = nullptr);
  // A head parsed by the caller and where its chunks are (e.g. a spool a transfer filled).
  BundleReader(BundleHead head, std::unique_ptr<ChunkSource> chunks);

  const BundleHead& head() const { return head_; }
  const Header& header() const { return head_.header(); }
  uint32_t version() const { return head_.version(); }
  const std::vector<ChunkRef>& chunks() const { return head_.chunks(); }
  uint64_t file_size() const { return head_.file_bytes(); }
  // The signer's public key, when the bundle is signed.
  const std::optional<PublicKeyBytes>& signer() const { return head_.signer(); }

  // Reads every chunk and checks its sha256; throws Corruption naming the first bad chunk.
  void VerifyChunks() const;
  // The decoded bytes of a payload span (zstd decoded when the span says so).
  std::unique_ptr<Reader> OpenSpan(const Span& span, std::string what) const;
  // A span's bytes as stored (still encoded), each chunk verified.
  std::unique_ptr<Reader> OpenRawSpan(uint64_t offset, uint64_t length) const;
  // A small document span read whole (manifest, config): at most its declared size is decoded.
  std::string ReadDocument(const Document& doc, std::string_view what) const;

  // Reads chunk `i` into `out` and checks that copy's sha256 (Corruption naming the chunk).
  void ReadChunk(size_t i, std::string* out) const;

 private:
  BundleHead head_;
  std::unique_ptr<ChunkSource> source_;
};

// Wraps the stored bytes of a span so reads return them decoded (`what` names it in errors).
std::unique_ptr<Reader> DecodeSpan(std::unique_ptr<Reader> raw, Encoding encoding, std::string what);

// True when the file starts with the bundle magic (for `outpost inspect` to tell bundles from
// image references).
bool LooksLikeBundle(const std::filesystem::path& path);

}  // namespace outpost::protocol
