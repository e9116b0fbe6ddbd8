#include "protocol/bundle_head.h"

#include <algorithm>
#include <array>
#include <cstring>

#include "common/error.h"
#include "compress/zstd.h"

namespace outpost::protocol {
namespace {

constexpr std::string_view kMagic("OUTPOSTB", 8);
constexpr uint64_t kChunkEntryBytes = 32 + 4;
constexpr uint32_t kSignatureBlockBytes = kPublicKeyBytes + kSignatureBytes;

uint32_t GetU32(std::string_view s, uint64_t at) {
  const auto* p = reinterpret_cast<const uint8_t*>(s.data()) + at;
  return uint32_t{p[0]} | uint32_t{p[1]} << 8 | uint32_t{p[2]} << 16 | uint32_t{p[3]} << 24;
}

// Where a head's fields lie, from its length fields.
struct Frame {
  uint32_t version = 0;
  uint32_t header_len = 0;    // stored header at offset 16
  uint32_t chunk_count = 0;   // table at 20 + header_len
  uint64_t signed_len = 0;    // everything before the S field
  uint32_t signature_len = 0;
  uint64_t length = 0;        // the whole head
};

// Reads as much of the frame as `prefix` holds into `frame`.
HeadExtent ReadFrame(std::string_view prefix, std::string_view what, Frame* frame) {
  size_t magic = std::min(prefix.size(), kMagic.size());
  if (prefix.substr(0, magic) != kMagic.substr(0, magic)) {
    throw Corruption(what, " is not an outpost bundle (no OUTPOSTB magic)");
  }
  if (prefix.size() < kHeadPrefixBytes) return {kHeadPrefixBytes, false};
  frame->version = GetU32(prefix, 8);
  frame->header_len = GetU32(prefix, 12);
  if (frame->header_len > kMaxHeaderBytes) {
    throw Corruption(what, ": its header length ", std::to_string(frame->header_len), " is over the ",
                     std::to_string(kMaxHeaderBytes), "-byte limit");
  }
  uint64_t count_at = 16 + uint64_t{frame->header_len};
  if (prefix.size() < count_at + 4) return {count_at + 4, false};
  frame->chunk_count = GetU32(prefix, count_at);
  if (frame->chunk_count > kMaxChunks) {
    throw Corruption(what, ": its chunk count ", std::to_string(frame->chunk_count), " is over the ",
                     std::to_string(kMaxChunks), "-chunk limit");
  }
  frame->signed_len = count_at + 4 + kChunkEntryBytes * frame->chunk_count;
  if (prefix.size() < frame->signed_len + 4) return {frame->signed_len + 4, false};
  frame->signature_len = GetU32(prefix, frame->signed_len);
  if (frame->signature_len != 0 && frame->signature_len != kSignatureBlockBytes) {
    throw Corruption(what, ": its signature block has ", std::to_string(frame->signature_len),
                     " bytes (0 or 96 expected)");
  }
  frame->length = frame->signed_len + 4 + frame->signature_len;
  return {frame->length, true};
}

void RefuseUnknownVersion(uint32_t version, std::string_view what) {
  if (version == 0) {
    throw Corruption(what, " says format version 0, which no outpost writes: the file is damaged");
  }
  if (version > kFormatVersion) {
    throw Unsupported(what, " is format version ", std::to_string(version), "; this outpost reads versions 1 to ",
                      std::to_string(kFormatVersion), ": upgrade outpost to apply it");
  }
}

// The header JSON of a version 2 head, from its zstd frame, at most kMaxHeaderBytes decoded.
std::string UnpackHeader(std::string_view stored) {
  StringReader in{std::string(stored)};
  compress::ZstdReader json(in, "header");
  return ReadAll(json, kMaxHeaderBytes);
}

}  // namespace

HeadExtent HeadLength(std::string_view prefix, std::string_view what) {
  Frame frame;
  return ReadFrame(prefix, what, &frame);
}

BundleHead BundleHead::Parse(std::string bytes, std::string what, const SigningKey* verify_key) {
  BundleHead head;
  head.what_ = std::move(what);
  const std::string& w = head.what_;
  std::string_view raw(bytes);
  // Without a key a newer version is refused before its framing is read; with one, after the
  // signature (the framing is the same in every version).
  if (verify_key == nullptr && raw.size() >= kHeadPrefixBytes && raw.substr(0, kMagic.size()) == kMagic) {
    RefuseUnknownVersion(GetU32(raw, 8), w);
  }
  Frame f;
  try {
    HeadExtent extent = ReadFrame(raw, w, &f);
    if (!extent.complete || extent.bytes > raw.size()) {
      throw Corruption(w, " is truncated (it ends inside its head, which needs ", std::to_string(extent.bytes),
                       " bytes or more)");
    }
    if (extent.bytes < raw.size()) {
      throw Corruption(w, ": its head is ", std::to_string(extent.bytes), " bytes, not ", std::to_string(raw.size()));
    }
  } catch (const Error& e) {
    if (verify_key == nullptr || e.kind() != Error::Kind::kCorruption) throw;
    throw SecurityError(e.what(), "; its signature cannot be checked (damaged or tampered)");
  }
  head.head_bytes_ = f.length;
  if (f.signature_len != 0) {
    head.signer_.emplace();
    std::memcpy(head.signer_->data(), raw.data() + f.signed_len + 4, kPublicKeyBytes);
  }
  if (verify_key != nullptr) {
    if (!head.signer_) throw SecurityError(w, " is not signed, and --verify-key demands a signature");
    if (*head.signer_ != verify_key->public_key()) {
      throw SecurityError(w, " is signed by ", KeyFingerprint(*head.signer_), ", not by the expected key ",
                          KeyFingerprint(verify_key->public_key()));
    }
    SignatureBytes signature;
    std::memcpy(signature.data(), raw.data() + f.signed_len + 4 + kPublicKeyBytes, kSignatureBytes);
    if (!verify_key->Verify(raw.substr(0, f.signed_len), signature)) {
      throw SecurityError(w, ": the signature does not match its header and chunk table (tampered)");
    }
    head.verified_ = true;
    RefuseUnknownVersion(f.version, w);
  }
  head.version_ = f.version;
  std::string_view stored = raw.substr(16, f.header_len);
  try {
    head.header_ = Header::FromJson(f.version == 1 ? stored : UnpackHeader(stored));
  } catch (const Error& e) {
    throw Corruption(w, ": ", e.what());
  }
  std::string_view table = raw.substr(20 + uint64_t{f.header_len}, kChunkEntryBytes * f.chunk_count);
  head.chunks_.reserve(f.chunk_count);  // bounded by the bytes of the table in hand
  head.chunk_offsets_.reserve(f.chunk_count);
  uint64_t total = 0;
  for (uint32_t i = 0; i < f.chunk_count; ++i) {
    std::string_view entry = table.substr(i * kChunkEntryBytes, kChunkEntryBytes);
    std::array<uint8_t, 32> sha;
    std::memcpy(sha.data(), entry.data(), sha.size());
    uint32_t len = GetU32(entry, 32);
    if (len == 0 || len > kChunkBytes) {
      throw Corruption(w, ": chunk ", std::to_string(i), " has an invalid length (", std::to_string(len), ")");
    }
    head.chunks_.push_back({Digest(sha), len});
    head.chunk_offsets_.push_back(total);
    total += len;
  }
  if (total != head.header_.payload_bytes) {
    throw Corruption(w, ": chunk table covers ", std::to_string(total), " bytes but the header says ",
                     std::to_string(head.header_.payload_bytes));
  }
  return head;
}

size_t BundleHead::ChunkAt(uint64_t offset) const {
  auto it = std::upper_bound(chunk_offsets_.begin(), chunk_offsets_.end(), offset);
  return static_cast<size_t>(it - chunk_offsets_.begin()) - 1;
}

void BundleHead::VerifyChunk(size_t i, std::string_view bytes) const {
  if (i >= chunks_.size()) {
    throw InvalidArgument(what_, " has ", std::to_string(chunks_.size()), " chunks, not a chunk ", std::to_string(i));
  }
  if (bytes.size() != chunks_[i].length || Digest::Of(bytes) != chunks_[i].digest) {
    throw Corruption(what_, ": chunk ", std::to_string(i), " (", chunks_[i].digest.short_hex(),
                     ") fails its sha256 check: the bundle is damaged");
  }
}

}  // namespace outpost::protocol
