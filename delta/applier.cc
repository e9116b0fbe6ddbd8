// ApplyLayerDelta, ApplyRawDelta and VerifyLayerDelta (declared in layer_delta.h).
#include <algorithm>
#include <cstring>
#include <memory>

#include "common/error.h"
#include "delta/bsdiff.h"
#include "delta/content_encoder.h"
#include "delta/elf_delta.h"
#include "delta/format.h"
#include "delta/header_op.h"
#include "delta/inner_gzip.h"
#include "delta/op_streams.h"
#include "delta/signature.h"
#include "delta/tar_guard.h"
#include "delta/varint.h"
#include "delta/zstd_util.h"
#include "tar/tar_reader.h"

namespace outpost::delta {
namespace {

constexpr size_t kChunkBytes = 1 << 20;
constexpr std::string_view kWhat = "delta";
constexpr uint8_t kBsdiffRawMode = 1;  // docs/layer-delta-format.md, "BSDIFF payload"

uint64_t GetFixed64(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

// Reads and checks the container header: magic, version, kind, and that `base` is the base the
// delta was made against (by `base_digest` when the caller verified it, else by hashing it).
// Returns the format version.
uint8_t CheckContainer(const RandomAccess& base, const std::optional<Digest>& base_digest, outpost::Reader& delta,
                       format::Kind kind) {
  uint8_t h[format::kHeaderBytes];
  ReadFull(delta, h, sizeof(h), "delta header");
  if (std::memcmp(h, format::kMagic.data(), 4) != 0) throw Corruption("not an outpost delta (bad magic)");
  if (h[4] > format::kVersion) {
    throw Unsupported("delta format version ", std::to_string(h[4]),
                      " is newer than this outpost reads (", std::to_string(format::kVersion),
                      "); upgrade outpost");
  }
  if (h[4] == 0) throw Corruption("delta has format version 0");
  if (h[5] != static_cast<uint8_t>(format::Kind::kLayer) && h[5] != static_cast<uint8_t>(format::Kind::kRaw)) {
    throw Corruption("delta has unknown kind ", std::to_string(h[5]), " (1 is a layer delta, 2 a raw delta)");
  }
  if (h[5] != static_cast<uint8_t>(kind)) {
    throw Corruption(kind == format::Kind::kLayer ? "a raw delta was given where a layer delta is expected"
                                                  : "a layer delta was given where a raw delta is expected");
  }
  uint64_t size = GetFixed64(h + 6);
  std::array<uint8_t, 32> want;
  std::memcpy(want.data(), h + 14, 32);
  if (base.size() != size) {
    throw Corruption("wrong base for delta: base has ", std::to_string(base.size()),
                     " bytes, the delta was made against one of ", std::to_string(size));
  }
  Digest got = base_digest ? *base_digest : HashAll(base);
  if (got != Digest(want)) {
    throw Corruption("wrong base for delta: base is ", got.str(), ", the delta was made against ",
                     Digest(want).str());
  }
  return h[4];
}

class Applier {
 public:
  Applier(const RandomAccess& base, OpStreams& streams, HashingWriter& out, TarGuard* guard, uint64_t max_output)
      : base_(base), streams_(streams), ops_(streams.Stream(format::kOps)), out_(out),
        guard_(guard), max_output_(max_output), buf_(new uint8_t[2 * kChunkBytes]) {}
  // `guard`, when not null, is the tar guard `out` writes through; checked at the end.
  // `max_output`: the target's declared size, never exceeded (checked before each op's work).

  // Runs ops until END; returns the checked target digest.
  Digest Run() {
    for (;;) {
      uint8_t tag;
      streams_.BeforeOp();
      ReadFull(ops_, &tag, 1, "delta ops");
      switch (static_cast<format::Op>(tag)) {
        case format::Op::kEnd: return End();
        case format::Op::kLiteral: Literal(); break;
        case format::Op::kCopy: CopyOp(); break;
        case format::Op::kAdd: Add(); break;
        case format::Op::kZstdRef: Payload(Method::kZstdRef); break;
        case format::Op::kBsdiff: Payload(Method::kBsdiff); break;
        case format::Op::kRsync: Payload(Method::kRsync); break;
        case format::Op::kGzip: Payload(Method::kInnerGzip); break;
        case format::Op::kHeader: Header(); break;
        case format::Op::kBsdiffSplit: BsdiffSplit(); break;
        case format::Op::kElfRef: ElfRef(); break;
        default: throw Corruption("delta has unknown op ", std::to_string(tag));
      }
    }
  }

 private:
  uint64_t Field() { return ReadVarint(ops_, "delta ops"); }

  // Refuses an op that would take the output past max_output_, before it does any work.
  void Reserve(uint64_t n) const {
    if (n > max_output_ - out_.count()) {
      throw Corruption("delta rebuilds more than the target's declared ", std::to_string(max_output_), " bytes");
    }
  }

  // Reads a base range (offset relative to the cursor, then length), checks it lies inside the
  // base and moves the cursor to its end.
  std::pair<uint64_t, uint64_t> BaseRange() {
    uint64_t offset = BaseOffset();
    uint64_t length = Field();
    CheckRange(offset, length);
    cursor_ = offset + length;
    return {offset, length};
  }

  // Reads a base offset written relative to the cursor.
  uint64_t BaseOffset() {
    uint64_t delta = Field();
    int64_t move = static_cast<int64_t>(delta >> 1) ^ -static_cast<int64_t>(delta & 1);
    uint64_t offset = cursor_ + static_cast<uint64_t>(move);
    if ((move < 0 && offset > cursor_) || (move > 0 && offset < cursor_)) {
      throw Corruption("delta refers to base bytes outside the base");
    }
    return offset;
  }

  // Checks [offset, offset + length) lies inside the base.
  void CheckRange(uint64_t offset, uint64_t length) const {
    if (offset > base_.size() || length > base_.size() - offset) {
      throw Corruption("delta refers to base bytes past its end");
    }
  }

  void Literal() {
    uint64_t n = Field();
    Reserve(n);
    Reader& in = n <= format::kMaxFreshLiteral ? streams_.Stream(format::kFresh) : streams_.Bulk();
    for (uint64_t left = n; left > 0;) {
      size_t k = static_cast<size_t>(std::min<uint64_t>(left, kChunkBytes));
      ReadFull(in, buf_.get(), k, "delta literal");
      out_.Write(buf_.get(), k);
      left -= k;
    }
  }

  void CopyOp() {
    auto [offset, length] = BaseRange();
    Reserve(length);
    CopyBase(offset, length);
  }

  void CopyBase(uint64_t offset, uint64_t length) {
    for (uint64_t done = 0; done < length;) {
      size_t k = static_cast<size_t>(std::min<uint64_t>(length - done, kChunkBytes));
      base_.ReadAt(offset + done, buf_.get(), k);
      out_.Write(buf_.get(), k);
      done += k;
    }
  }

  void Add() {
    auto [offset, length] = BaseRange();
    Reserve(length);
    uint8_t* mask = buf_.get() + kChunkBytes;
    for (uint64_t done = 0; done < length;) {
      size_t k = static_cast<size_t>(std::min<uint64_t>(length - done, kChunkBytes));
      base_.ReadAt(offset + done, buf_.get(), k);
      ReadFull(streams_.Stream(format::kAdds), mask, k, "delta add bytes");
      for (size_t i = 0; i < k; ++i) buf_[i] = static_cast<uint8_t>(buf_[i] + mask[i]);
      out_.Write(buf_.get(), k);
      done += k;
    }
  }

  // HEADER: the padding that aligns the output to 512 bytes and `blocks` header blocks, predicted
  // from the base (delta/header_op.h), then maybe the entry's content copied from the base.
  void Header() {
    uint8_t flags;
    ReadFull(ops_, &flags, 1, "delta header op");
    if ((flags & ~header_op::kAllFlags) != 0) throw Corruption("delta header op has unknown flags");
    uint64_t offset = BaseOffset(), blocks = Field();
    if (blocks == 0 || blocks > format::kMaxEntryHeader / tar::kBlockSize) {
      throw Corruption("delta header op has ", std::to_string(blocks), " blocks");
    }
    uint64_t pad = (tar::kBlockSize - out_.count() % tar::kBlockSize) % tar::kBlockSize;
    uint64_t n = pad + blocks * tar::kBlockSize;
    CheckRange(offset, n);
    Reserve(n);
    std::string header = ReadBase(base_, offset, n);
    std::fill_n(header.begin(), pad, '\0');  // padding is predicted as zeros
    size_t slot = header_op::MtimeSlot(header, streams_.version());
    if (flags & header_op::kPreviousMtime) {
      header_op::SetLastMtime(&header, last_mtime_.Get(slot));
    }
    if (flags & header_op::kDiff) {
      std::string x(n, '\0');
      ReadFull(streams_.Stream(format::kAdds), reinterpret_cast<uint8_t*>(x.data()), n,
               "delta header bytes");
      for (size_t i = 0; i < n; ++i) header[i] = static_cast<char>(header[i] + x[i]);
    }
    if (flags & header_op::kChecksum) header_op::SetLastChecksum(&header);
    last_mtime_.Remember(slot, header_op::LastMtime(header));
    out_.Write(header);
    cursor_ = offset + n;
    if (flags & header_op::kContent) {
      uint64_t size = EntrySize(std::string_view(header).substr(pad));
      CheckRange(cursor_, size);
      Reserve(size);
      CopyBase(cursor_, size);
      cursor_ += size;
    }
  }

  // The content size the header blocks `header` declare; Corruption unless they are exactly one
  // entry's headers.
  static uint64_t EntrySize(std::string_view header) {
    StringReader in{std::string(header)};
    tar::Reader reader(in);
    tar::Entry e;
    if (!reader.Next(&e) || reader.offset() != header.size()) {
      throw Corruption("delta header op copies content after bytes that are not a tar header");
    }
    return e.size;
  }

  void Payload(Method method) {
    auto [offset, base_length] = BaseRange();
    uint64_t target_length = Field(), size = Field();
    if (target_length > format::kMaxTargetWindow || size > format::kMaxPayload ||
        (method != Method::kRsync && base_length > format::kMaxBaseWindow)) {
      throw Corruption("delta op exceeds the format's window limits");
    }
    Reserve(target_length);
    std::string payload(size, '\0');
    ReadFull(streams_.Bulk(), reinterpret_cast<uint8_t*>(payload.data()), payload.size(),
             "delta payload");
    std::string target;
    if (method == Method::kRsync) {
      target = RsyncPatch(base_, offset, base_length, payload, target_length);
    } else {
      std::string base = ReadBase(base_, offset, base_length);
      target = method == Method::kZstdRef ? DecompressWithPrefix(payload, base, target_length, kWhat)
               : method == Method::kBsdiff ? BsdiffApply(base, payload, target_length)
               : method == Method::kElfRef ? ElfApply(std::move(base), payload, target_length)
                                           : ApplyInnerGzip(base, payload, target_length);
    }
    out_.Write(reinterpret_cast<const uint8_t*>(target.data()), target.size());
  }

  // ELF_REF (version 3): a payload op like BSDIFF.
  void ElfRef() {
    if (streams_.version() < format::kFirstElfVersion) {
      throw Corruption("delta has unknown op ", std::to_string(static_cast<int>(format::Op::kElfRef)));
    }
    Payload(Method::kElfRef);
  }

  // BSDIFF_SPLIT (version 2): a raw-mode BSDIFF payload whose streams are in the segment.
  void BsdiffSplit() {
    if (streams_.version() < format::kFirstSplitVersion) {
      throw Corruption("delta has unknown op ",
                       std::to_string(static_cast<int>(format::Op::kBsdiffSplit)));
    }
    auto [offset, base_length] = BaseRange();
    uint64_t target_length = Field();
    uint64_t lengths[3];
    for (uint64_t& length : lengths) length = Field();
    if (target_length > format::kMaxTargetWindow || base_length > format::kMaxBaseWindow ||
        lengths[0] > format::kMaxSegmentBytes || lengths[1] > target_length ||
        lengths[2] > target_length) {
      throw Corruption("delta op exceeds the format's window limits");
    }
    Reserve(target_length);
    std::string payload(1, static_cast<char>(kBsdiffRawMode));
    const format::Stream kinds[3] = {format::kControl, format::kDiff, format::kFresh};
    for (int i = 0; i < 3; ++i) {
      std::string bytes(lengths[i], '\0');
      ReadFull(streams_.Stream(kinds[i]), reinterpret_cast<uint8_t*>(bytes.data()), bytes.size(),
               "delta bsdiff streams");
      if (i < 2) PutVarint(&payload, bytes.size());
      payload += bytes;
    }
    std::string target = BsdiffApply(ReadBase(base_, offset, base_length), payload, target_length);
    out_.Write(reinterpret_cast<const uint8_t*>(target.data()), target.size());
  }

  Digest End() {
    uint64_t size = Field();
    std::array<uint8_t, 32> want;
    ReadFull(ops_, want.data(), want.size(), "delta end");
    streams_.CheckEnd();
    if (guard_ != nullptr) guard_->Finish();
    if (out_.count() != size) throw Corruption("delta rebuilt the wrong number of bytes");
    Digest got = out_.Finish();
    if (got != Digest(want)) {
      throw Corruption("delta rebuilt ", got.str(), " instead of ", Digest(want).str());
    }
    return got;
  }

  const RandomAccess& base_;
  OpStreams& streams_;
  outpost::Reader& ops_;  // tags and fields
  HashingWriter& out_;  // hashes what it passes on to the guard or the output
  TarGuard* guard_;
  uint64_t max_output_;
  std::unique_ptr<uint8_t[]> buf_;
  uint64_t cursor_ = 0;  // end of the last base range an op referred to
  header_op::MtimeMemory last_mtime_;  // of the last HEADER ops' output
};

Digest Apply(const RandomAccess& base, const std::optional<Digest>& base_digest, outpost::Reader& delta,
             Writer& out, format::Kind kind, uint64_t max_output) {
  uint8_t version = CheckContainer(base, base_digest, delta, kind);
  ZstdFrameReader frame(delta, "delta");
  OpStreams streams(frame, base, version);
  if (kind == format::Kind::kLayer) {
    TarGuard guard(out);
    HashingWriter hashing(&guard);
    return Applier(base, streams, hashing, &guard, max_output).Run();
  }
  HashingWriter hashing(&out);
  return Applier(base, streams, hashing, nullptr, max_output).Run();
}

}  // namespace

Digest ApplyLayerDelta(const RandomAccess& base_tar, outpost::Reader& delta, Writer& target_tar_out,
                       const std::optional<Digest>& base_digest, uint64_t max_target_bytes) {
  return Apply(base_tar, base_digest, delta, target_tar_out, format::Kind::kLayer, max_target_bytes);
}

Digest VerifyLayerDelta(const RandomAccess& base_tar, outpost::Reader& delta) {
  NullWriter sink;
  return ApplyLayerDelta(base_tar, delta, sink);
}

Digest ApplyRawDelta(const RandomAccess& base, outpost::Reader& delta, Writer& out,
                     const std::optional<Digest>& base_digest, uint64_t max_target_bytes) {
  return Apply(base, base_digest, delta, out, format::Kind::kRaw, max_target_bytes);
}

}  // namespace outpost::delta
