#include "delta/signature.h"

#include <algorithm>
#include <cstring>
#include <memory>

#include "common/error.h"
#include "delta/base_matcher.h"
#include "delta/content_encoder.h"
#include "delta/format.h"
#include "delta/op_writer.h"
#include "delta/rsync_job.h"
#include "delta/varint.h"
#include "delta/zstd_util.h"
#include "tar/tar_reader.h"

namespace outpost::delta {
namespace {

constexpr std::string_view kMagic = "OPSG";
constexpr uint8_t kVersion = 1;
constexpr std::string_view kWhat = "layer signature";
constexpr size_t kChunkBytes = 1 << 20;
// A signature is held in memory; this bounds its decoded content (and so what a corrupt one can
// make us allocate: about 1.4 times the decoded bytes, since every entry needs 517 of them).
constexpr size_t kMaxSignatureBytes = 1ull << 30;

// A Writer that refuses to grow past `limit` bytes (a patch must not balloon).
class BoundedStringWriter : public Writer {
 public:
  explicit BoundedStringWriter(uint64_t limit) : limit_(limit) {}
  using Writer::Write;
  void Write(const uint8_t* data, size_t n) override {
    if (n > limit_ - out.size()) throw Corruption("rsync delta rebuilds more bytes than recorded");
    out.append(reinterpret_cast<const char*>(data), n);
  }
  std::string out;

 private:
  uint64_t limit_;
};

struct PatchBasis {
  const RandomAccess* base;
  uint64_t offset;
  uint64_t length;
};

rs_result CopyFromBase(void* opaque, rs_long_t pos, size_t* len, void** buf) {
  auto* basis = static_cast<PatchBasis*>(opaque);
  if (pos < 0 || static_cast<uint64_t>(pos) >= basis->length) return RS_INPUT_ENDED;
  *len = static_cast<size_t>(std::min<uint64_t>(*len, basis->length - static_cast<uint64_t>(pos)));
  try {
    basis->base->ReadAt(basis->offset + static_cast<uint64_t>(pos), static_cast<uint8_t*>(*buf), *len);
  } catch (const Error&) {
    return RS_IO_ERROR;
  }
  return RS_DONE;
}

// Encodes a target tar against a signature: the signature-mode twin of the layer encoder.
class BlockSignatureEncoder {
 public:
  BlockSignatureEncoder(const BlockSignature& sig, OpWriter& ops, const EncodeOptions& options,
                   LayerDeltaStats* stats)
      : sig_(sig), matcher_(sig.index), ops_(ops), options_(options), stats_(stats) {}

  void Entry(tar::Reader& tar, const tar::Entry& e, uint64_t previous_size) {
    if (!tar::IsSafeEntry(e)) {
      throw SecurityError("target layer entry \"", e.name, "\" has an absolute path or a \"..\" component",
                          " (or hard-links to one)");
    }
    size_t pad = (tar::kBlockSize - previous_size % tar::kBlockSize) % tar::kBlockSize;
    std::string_view raw = e.raw_prefix;
    ops_.Literal(raw.substr(0, pad));
    std::string_view header = raw.substr(pad);
    const TarIndexEntry* same = matcher_.SamePath(e.name);
    const std::string* base_header = same == nullptr ? nullptr : &sig_.headers[Position(same)];
    if (base_header != nullptr && base_header->size() == header.size()) {
      ops_.Add(same->header_offset, *base_header, header);
    } else {
      ops_.Literal(header);
    }
    uint64_t window = std::clamp<uint64_t>(options_.window_bytes, 1, kWindowBytes);
    for (uint64_t at = 0; at < e.size; at += window) {
      Window(e, at, ReadEntryContent(tar, std::min(window, e.size - at)));
    }
  }

 private:
  size_t Position(const TarIndexEntry* e) const { return static_cast<size_t>(e - sig_.index.entries.data()); }

  void Window(const tar::Entry& e, uint64_t at, std::string_view window) {
    if (e.size == window.size()) {
      const TarIndexEntry* same = matcher_.SameContent(Digest::Of(window));
      if (same != nullptr) {
        ++stats_->copied_entries;
        return ops_.Copy(same->data_offset, same->size);
      }
    }
    const TarIndexEntry* base = matcher_.Similar(e.name, e.size);
    if (base != nullptr) {
      if (loaded_ != base) {
        rsync_ = RsyncLoad(sig_.blocks[Position(base)]);
        loaded_ = base;
      }
      std::string payload = RsyncDelta(rsync_.get(), window);
      size_t literal = CompressWithPrefix(window, {}, options_.zstd_level).size();
      if (CompressWithPrefix(payload, {}, options_.zstd_level).size() < literal) {
        if (at == 0) ++stats_->delta_entries;
        return ops_.Payload(Method::kRsync, base->data_offset, base->size, window.size(), payload);
      }
    }
    if (at == 0) ++stats_->new_entries;
    ops_.Literal(window);
  }

  const BlockSignature& sig_;
  BaseMatcher matcher_;
  OpWriter& ops_;
  const EncodeOptions& options_;
  LayerDeltaStats* stats_;
  const TarIndexEntry* loaded_ = nullptr;
  RsyncSignature rsync_;
};

// The decoded signature content, read front to back with at most kMaxSignatureBytes in all.
class Body {
 public:
  explicit Body(outpost::Reader& in) : in_(in) {}

  uint8_t Byte() {
    if (pos_ == buf_.size()) Fill();
    return static_cast<uint8_t>(buf_[pos_++]);
  }
  uint64_t Varint() {
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      uint8_t b = Byte();
      v |= uint64_t{b & 0x7fu} << shift;
      if ((b & 0x80) == 0) return v;
    }
    throw Corruption(kWhat, " has a varint longer than 10 bytes");
  }
  Digest Sha256() {
    std::array<uint8_t, 32> bytes;
    for (uint8_t& b : bytes) b = Byte();
    return Digest(bytes);
  }
  // A length-prefixed string of at most `limit` bytes, grown as its bytes arrive.
  std::string Bytes(uint64_t limit) {
    uint64_t n = Varint();
    if (n > limit) throw Corruption(kWhat, " has a field of ", std::to_string(n), " bytes");
    std::string out;
    while (out.size() < n) {
      if (pos_ == buf_.size()) Fill();
      size_t k = static_cast<size_t>(std::min<uint64_t>(n - out.size(), buf_.size() - pos_));
      out.append(buf_, pos_, k);
      pos_ += k;
    }
    return out;
  }
  // Throws Corruption unless the content (and the frame) ends here.
  void End() {
    uint8_t extra;
    if (pos_ != buf_.size() || in_.Read(&extra, 1) != 0) throw Corruption(kWhat, " has trailing bytes");
  }

 private:
  void Fill() {
    buf_.resize(kChunkBytes / 16);
    size_t got = in_.Read(reinterpret_cast<uint8_t*>(buf_.data()), buf_.size());
    if (got == 0) throw Corruption(kWhat, " is truncated");
    buf_.resize(got);
    pos_ = 0;
    total_ += got;
    if (total_ > kMaxSignatureBytes) {
      throw Corruption(kWhat, " is larger than ", std::to_string(kMaxSignatureBytes), " bytes decoded");
    }
  }

  outpost::Reader& in_;
  std::string buf_;
  size_t pos_ = 0;
  uint64_t total_ = 0;
};

}  // namespace

BlockSignature BlockSignature::Build(const RandomAccess& base_tar) {
  BlockSignature sig;
  RandomAccessReader whole(base_tar, 0, base_tar.size());
  sig.index = TarIndex::Build(whole);
  for (const TarIndexEntry& e : sig.index.entries) {
    std::string header(e.data_offset - e.header_offset, '\0');
    base_tar.ReadAt(e.header_offset, reinterpret_cast<uint8_t*>(header.data()), header.size());
    sig.headers.push_back(std::move(header));
    std::string blocks;
    if (e.size > 0) {
      RandomAccessReader content(base_tar, e.data_offset, e.size);
      blocks = RsyncSign(content, e.size);
    }
    sig.blocks.push_back(std::move(blocks));
  }
  return sig;
}

void BlockSignature::Write(Writer& out) const {
  std::string body;
  PutVarint(&body, index.tar_size);
  PutDigest(&body, index.tar_digest);
  PutVarint(&body, index.entries.size());
  for (size_t i = 0; i < index.entries.size(); ++i) {
    const TarIndexEntry& e = index.entries[i];
    PutBytes(&body, e.name);
    body.push_back(e.type);
    PutVarint(&body, e.size);
    PutVarint(&body, e.header_offset);
    PutBytes(&body, headers[i]);
    if (e.size == 0) continue;
    PutDigest(&body, e.content);
    PutBytes(&body, blocks[i]);
  }
  out.Write(kMagic);
  uint8_t version = kVersion;
  out.Write(&version, 1);
  out.Write(CompressWithPrefix(body, {}, 19));
}

BlockSignature BlockSignature::Read(outpost::Reader& in, uint64_t max_tar_bytes) {
  uint8_t head[5];
  ReadFull(in, head, sizeof(head), kWhat);
  if (std::string_view(reinterpret_cast<const char*>(head), 4) != kMagic) {
    throw Corruption("not an outpost layer signature (bad magic)");
  }
  if (head[4] != kVersion) {
    throw Unsupported("layer signature version ", std::to_string(head[4]), " is not one this outpost reads (",
                      std::to_string(kVersion), "): upgrade outpost");
  }
  // Decoded as it streams: nothing is allocated on the frame's declared size, and every string
  // grows only as its bytes arrive.
  ZstdFrameReader frame(in, std::string(kWhat));
  Body body(frame);
  BlockSignature sig;
  sig.index.tar_size = body.Varint();
  if (sig.index.tar_size > max_tar_bytes) {
    throw Corruption(kWhat, " describes a ", std::to_string(sig.index.tar_size), "-byte tar, more than the ",
                     std::to_string(max_tar_bytes), " bytes its layer can hold");
  }
  sig.index.tar_digest = body.Sha256();
  uint64_t count = body.Varint();
  // Every tar entry starts with at least one 512-byte header block.
  if (count > sig.index.tar_size / tar::kBlockSize) {
    throw Corruption(kWhat, " lists ", std::to_string(count), " entries, more than its ",
                     std::to_string(sig.index.tar_size), "-byte tar can hold");
  }
  uint64_t end = 0;  // where the previous entry's content ends
  for (uint64_t i = 0; i < count; ++i) {
    TarIndexEntry e;
    std::string header;
    e.name = body.Bytes(format::kMaxEntryHeader);
    e.type = static_cast<char>(body.Byte());
    e.size = body.Varint();
    e.header_offset = body.Varint();
    header = body.Bytes(format::kMaxEntryHeader);
    if (header.size() < tar::kBlockSize || header.size() % tar::kBlockSize != 0 || e.name.size() > header.size() ||
        e.header_offset < end) {
      throw Corruption(kWhat, ": entry ", std::to_string(i), " is not a tar entry (header of ",
                       std::to_string(header.size()), " bytes at ", std::to_string(e.header_offset), ")");
    }
    e.data_offset = e.header_offset + header.size();
    if (e.data_offset > sig.index.tar_size || e.size > sig.index.tar_size - e.data_offset) {
      throw Corruption(kWhat, ": entry ", std::to_string(i), " lies past the end of its ",
                       std::to_string(sig.index.tar_size), "-byte tar");
    }
    end = e.data_offset + e.size;
    std::string blocks;
    if (e.size > 0) {
      e.content = body.Sha256();
      blocks = body.Bytes(kMaxSignatureBytes);
    }
    sig.index.entries.push_back(std::move(e));
    sig.headers.push_back(std::move(header));
    sig.blocks.push_back(std::move(blocks));
  }
  body.End();
  return sig;
}

LayerDeltaStats EncodeLayerDeltaFromBlockSignature(const BlockSignature& signature,
                                                   outpost::Reader& target_tar, Writer& delta_out,
                                                   const EncodeOptions& options) {
  LayerDeltaStats stats;
  OpWriter ops(delta_out, format::Kind::kLayer, signature.index.tar_size,
               signature.index.tar_digest, options.zstd_level, &stats);
  BlockSignatureEncoder encoder(signature, ops, options, &stats);
  HashingReader hashing(target_tar);
  tar::Reader tar(hashing);
  tar::Entry e;
  uint64_t previous_size = 0;
  while (tar.Next(&e)) {
    encoder.Entry(tar, e, previous_size);
    previous_size = e.size;
  }
  auto buf = std::make_unique<uint8_t[]>(kChunkBytes);
  for (size_t got; (got = tar.ReadTrailer(buf.get(), kChunkBytes)) > 0;) {
    ops.Literal(std::string_view(reinterpret_cast<const char*>(buf.get()), got));
  }
  ops.End(hashing.count(), hashing.Finish());
  return stats;
}

std::string RsyncPatch(const RandomAccess& base, uint64_t offset, uint64_t length,
                       std::string_view delta, uint64_t target_size) {
  PatchBasis basis{&base, offset, length};
  RsyncJob job(rs_patch_begin(&CopyFromBase, &basis));
  StringReader in{std::string(delta)};
  BoundedStringWriter out(target_size);
  RunRsyncJob(job.get(), in, out, "rsync delta");
  if (out.out.size() != target_size) throw Corruption("rsync delta rebuilds the wrong number of bytes");
  return std::move(out.out);
}

}  // namespace outpost::delta
