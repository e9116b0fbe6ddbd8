// A bundle's head: every byte from offset 0 through the signature block (docs/bundle-format.md).
//
//   magic "OUTPOSTB" | u32 version | u32 H | stored header (H bytes) | u32 N |
//   chunk table (N x: sha256, u32 length) | u32 S | signature block (S bytes)
//
// The head is checked and parsed from ONE in-memory copy, so the bytes used are the bytes
// verified whatever the medium does between two reads. With a verify key the Ed25519 signature
// is checked over the raw signed bytes (everything before the S field) before the header is
// decompressed or parsed. After the head, each payload chunk can be checked on its own
// (VerifyChunk), in any order, as it arrives.
//
// How a receiver reads a head it gets piece by piece (a file, a network stream):
//   HeadExtent e = HeadLength(prefix, what);           // prefix: any first bytes of the bundle
//   while (!e.complete) { get e.bytes first bytes; e = HeadLength(them, what); }
//   BundleHead head = BundleHead::Parse(first e.bytes bytes, what, key);  // one copy
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/digest.h"
#include "protocol/bundle.h"
#include "protocol/signing.h"

namespace outpost::protocol {

// Payload chunk size. A lost chunk is re-sent alone: at 100 kbit/s 1 MiB is about 90 s of link,
// and the chunk table costs 36 bytes per MiB.
inline constexpr uint32_t kChunkBytes = 1 << 20;
// Framing limits, enforced before anything is allocated or read on their account. The stored
// header is at most kMaxHeaderBytes (bundle.h, also the bound on the decoded JSON). At most
// kMaxChunks chunks, so at most 1 TiB of payload and a 36 MiB chunk table: the largest images
// registries serve are tens of GB.
inline constexpr uint32_t kMaxChunks = 1 << 20;
// The first bytes of every head: magic, version, header length. HeadLength needs at least these.
inline constexpr uint64_t kHeadPrefixBytes = 16;
// The longest head the limits allow: what a receiver may have to buffer, at most.
inline constexpr uint64_t kMaxHeadBytes =
    24 + uint64_t{kMaxHeaderBytes} + 36 * uint64_t{kMaxChunks} + kPublicKeyBytes + kSignatureBytes;

// One payload chunk as the head's table lists it.
struct ChunkRef {
  Digest digest;
  uint32_t length = 0;
};

// What the first bytes of a bundle say about the length of its head.
struct HeadExtent {
  // complete: the head is exactly `bytes` long. Otherwise a prefix of at least `bytes` bytes is
  // needed to tell more (the head is at least that long).
  uint64_t bytes = 0;
  bool complete = false;
};

// Reads the framing (magic and length fields, nothing else) from `prefix`, the first bytes of a
// bundle (any number of them). `what` names the bundle in messages ("bundle x.bundle").
// Throws Corruption when the prefix is not a bundle's or a length is beyond the limits; never
// checks the version, the signature or the header (Parse does, on the whole head).
HeadExtent HeadLength(std::string_view prefix, std::string_view what);

// A parsed, bounds-checked head: the header, the chunk table and the signer. Immutable; cheap to
// move; safe to share between threads once built.
class BundleHead {
 public:
  // Parses `bytes`, which must be exactly the head (HeadLength's complete length: a byte more or
  // less is Corruption). Order: framing; with `verify_key`, the signature over the raw signed
  // bytes; the version; then the chunk table and the header, decoded within the limits
  // (kMaxHeaderBytes, kMaxLayers, kMaxBases, kMaxHeaderDepth, kMaxHeaderValues).
  // With `verify_key` every failure up to the signature check is Security (an unsigned head, one
  // signed by another key, changed signed bytes, or framing too damaged to find the signature),
  // so a flipped byte anywhere in the head is refused as tampered before anything is decoded.
  // Without it (and after a good signature): Corruption (not a bundle, truncated, inconsistent,
  // over a limit, version 0), Unsupported (a newer format version).
  static BundleHead Parse(std::string bytes, std::string what, const SigningKey* verify_key = nullptr);

  const Header& header() const { return header_; }
  uint32_t version() const { return version_; }
  const std::vector<ChunkRef>& chunks() const { return chunks_; }
  // Payload offset of chunk `i` (its bytes are [ChunkOffset(i), + chunks()[i].length)).
  uint64_t ChunkOffset(size_t i) const { return chunk_offsets_[i]; }
  // The chunk holding payload byte `offset` (< header().payload_bytes).
  size_t ChunkAt(uint64_t offset) const;
  // Bytes of the head = file offset of the payload.
  uint64_t head_bytes() const { return head_bytes_; }
  // Bytes of the whole bundle file: head and payload.
  uint64_t file_bytes() const { return head_bytes_ + header_.payload_bytes; }
  // The signer's public key, when the head is signed (trusted only if `verified()`).
  const std::optional<PublicKeyBytes>& signer() const { return signer_; }
  // True when Parse checked the signature against a verify key.
  bool verified() const { return verified_; }
  // The name used in messages.
  const std::string& what() const { return what_; }

  // Throws Corruption naming the chunk and the bundle unless `bytes` are exactly chunk `i`
  // (length and sha256); InvalidArgument when `i` is not a chunk index. Thread-safe.
  void VerifyChunk(size_t i, std::string_view bytes) const;

 private:
  BundleHead() = default;

  std::string what_;
  uint32_t version_ = 0;
  uint64_t head_bytes_ = 0;
  Header header_;
  std::vector<ChunkRef> chunks_;
  std::vector<uint64_t> chunk_offsets_;
  std::optional<PublicKeyBytes> signer_;
  bool verified_ = false;
};

}  // namespace outpost::protocol
