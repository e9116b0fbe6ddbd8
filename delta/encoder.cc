// EncodeLayerDelta and EncodeRawDelta (declared in layer_delta.h).
#include <algorithm>
#include <memory>

#include "common/error.h"
#include "delta/base_matcher.h"
#include "delta/content_encoder.h"
#include "delta/op_writer.h"
#include "tar/tar_reader.h"

namespace outpost::delta {
namespace {

constexpr size_t kChunkBytes = 1 << 20;

uint64_t PaddingAfter(uint64_t size) {
  return (tar::kBlockSize - size % tar::kBlockSize) % tar::kBlockSize;
}

class LayerEncoder {
 public:
  LayerEncoder(const RandomAccess& base, const TarIndex& index, OpWriter& ops,
               const EncodeOptions& options, LayerDeltaStats* stats)
      : base_(base), matcher_(index), ops_(ops), options_(options), content_(base, ops, options),
        stats_(stats) {}

  void Entry(tar::Reader& tar, const tar::Entry& e, uint64_t previous_size) {
    if (!tar::IsSafeEntry(e)) {
      throw SecurityError("target layer entry \"", e.name, "\" has an absolute path or a \"..\" component",
                          " (or hard-links to one)");
    }
    size_t pad = static_cast<size_t>(PaddingAfter(previous_size));
    std::string_view raw = e.raw_prefix;
    const TarIndexEntry* same = matcher_.SamePath(e.name);
    if (HeaderOpFits(e, pad, same)) return HeaderEntry(tar, e, *same, pad);
    ops_.Literal(raw.substr(0, pad));
    Header(same, raw.substr(pad));
    if (e.size > 0) Content(tar, e);
  }

 private:
  // The HEADER op covers the padding before the header blocks, which the applier derives from
  // the target's 512-byte alignment; it needs the same path in the base with header blocks of
  // the same length and as many base bytes before them as the padding.
  static bool HeaderOpFits(const tar::Entry& e, size_t pad, const TarIndexEntry* same) {
    size_t blocks = e.raw_prefix.size() - pad;
    return same != nullptr && pad == PaddingAfter(e.offset) && blocks > 0 &&
           blocks % tar::kBlockSize == 0 && same->data_offset - same->header_offset == blocks &&
           same->header_offset >= pad;
  }

  // Padding and header as one HEADER op (or a copy when the base has the same bytes); an
  // unchanged small file's content is copied by the same op when it follows the base header.
  void HeaderEntry(tar::Reader& tar, const tar::Entry& e, const TarIndexEntry& same, size_t pad) {
    uint64_t base_offset = same.header_offset - pad;
    std::string base = ReadBase(base_, base_offset, e.raw_prefix.size());
    std::string prediction = std::string(pad, '\0') + base.substr(pad);  // as the applier predicts
    if (e.size > options_.window_bytes) {
      HeaderBytes(base_offset, base, prediction, e.raw_prefix, 0);
      return Content(tar, e);
    }
    std::string content = ReadEntryContent(tar, e.size);
    // The base's index vouches for its content (a wrong index makes a delta that fails its END
    // digest, never a wrong tar), so equal hashes are not confirmed byte by byte.
    bool copied = e.size > 0 && same.size == e.size && same.content == ContentDigest(e, content);
    HeaderBytes(base_offset, base, prediction, e.raw_prefix, copied ? e.size : 0);
    if (copied) return Count(Outcome::kCopied);
    if (e.size > 0) SmallFile(e, content);
  }

  // A copy when the base bytes are the target's, else a HEADER op against `prediction` (the base
  // bytes with the padding zeroed).
  void HeaderBytes(uint64_t base_offset, std::string_view base, std::string_view prediction,
                   std::string_view target, uint64_t content_length) {
    if (base == target) return ops_.Copy(base_offset, target.size() + content_length);
    ops_.Header(base_offset, prediction, target, content_length);
  }

  // A header is added bytewise with the base entry of the same path when their header blocks have the
  // same length (the usual case: only size, mtime and checksum differ), else sent as bytes.
  void Header(const TarIndexEntry* same, std::string_view header) {
    if (same != nullptr && same->data_offset - same->header_offset == header.size()) {
      std::string base_header = ReadBase(base_, same->header_offset, header.size());
      ops_.Add(same->header_offset, base_header, header);
    } else {
      ops_.Literal(header);
    }
  }

  void Content(tar::Reader& tar, const tar::Entry& e) {
    uint64_t window = options_.window_bytes;
    if (e.size <= window) return SmallFile(e, ReadEntryContent(tar, e.size));
    const TarIndexEntry* base = matcher_.Similar(e.name, e.size);
    Outcome outcome = Outcome::kCopied;
    for (uint64_t at = 0; at < e.size; at += window) {
      std::string bytes = ReadEntryContent(tar, std::min(window, e.size - at));
      outcome = std::max(outcome, content_.Window(base, at, bytes));
    }
    Count(outcome);
  }

  void SmallFile(const tar::Entry& e, const std::string& content) {
    const TarIndexEntry* same = matcher_.SameContent(ContentDigest(e, content));
    if (same != nullptr) {  // trusted like HeaderEntry's copies
      ops_.Copy(same->data_offset, same->size);
      return Count(Outcome::kCopied);
    }
    Count(content_.Window(matcher_.Similar(e.name, e.size), 0, content, true));
  }

  // The sha256 of entry `e`'s `content`: from the target's index when the caller gave one.
  Digest ContentDigest(const tar::Entry& e, std::string_view content) {
    if (const TarIndex* index = options_.target_index) {
      while (next_indexed_ < index->entries.size() && index->entries[next_indexed_].data_offset < e.data_offset) {
        ++next_indexed_;
      }
      if (next_indexed_ < index->entries.size()) {
        const TarIndexEntry& known = index->entries[next_indexed_];
        if (known.data_offset == e.data_offset && known.size == e.size && known.size > 0) return known.content;
      }
    }
    return Digest::Of(content);
  }

  void Count(Outcome outcome) {
    if (outcome == Outcome::kCopied) ++stats_->copied_entries;
    else if (outcome == Outcome::kDelta) ++stats_->delta_entries;
    else ++stats_->new_entries;
  }

  const RandomAccess& base_;
  BaseMatcher matcher_;
  OpWriter& ops_;
  const EncodeOptions& options_;
  ContentEncoder content_;
  LayerDeltaStats* stats_;
  size_t next_indexed_ = 0;  // ContentDigest's place in options_.target_index
};

// The target stream as the encoder reads it: counted, and hashed unless its digest is known.
class TargetReader : public outpost::Reader {
 public:
  TargetReader(outpost::Reader& inner, const std::optional<Digest>& known)
      : inner_(inner), hashing_(inner), known_(known) {}
  size_t Read(uint8_t* buf, size_t n) override {
    size_t got = known_ ? inner_.Read(buf, n) : hashing_.Read(buf, n);
    count_ += got;
    return got;
  }
  uint64_t count() const { return count_; }
  Digest Finish() { return known_ ? *known_ : hashing_.Finish(); }

 private:
  outpost::Reader& inner_;
  HashingReader hashing_;
  const std::optional<Digest>& known_;
  uint64_t count_ = 0;
};

TarIndex IndexBase(const RandomAccess& base) {
  RandomAccessReader reader(base, 0, base.size());
  return TarIndex::Build(reader);
}

void CheckOptions(const EncodeOptions& options) {
  if (options.window_bytes == 0 || options.window_bytes > kWindowBytes) {
    throw InvalidArgument("delta window must be between 1 and ", std::to_string(kWindowBytes), " bytes");
  }
}

}  // namespace

LayerDeltaStats EncodeLayerDelta(const RandomAccess& base_tar, outpost::Reader& target_tar,
                                 Writer& delta_out, const EncodeOptions& options) {
  CheckOptions(options);
  return EncodeLayerDelta(base_tar, IndexBase(base_tar), target_tar, delta_out, options);
}

LayerDeltaStats EncodeLayerDelta(const RandomAccess& base_tar, const TarIndex& index,
                                 outpost::Reader& target_tar, Writer& delta_out,
                                 const EncodeOptions& options) {
  CheckOptions(options);
  LayerDeltaStats stats;
  OpWriter ops(delta_out, format::Kind::kLayer, index.tar_size, index.tar_digest,
               options.zstd_level, &stats, &base_tar);
  LayerEncoder encoder(base_tar, index, ops, options, &stats);
  TargetReader target(target_tar, options.target_digest);
  tar::Reader tar(target);
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
  ops.End(target.count(), target.Finish());
  return stats;
}

LayerDeltaStats EncodeRawDelta(const RandomAccess& base, outpost::Reader& target, Writer& out,
                               const EncodeOptions& options) {
  CheckOptions(options);
  LayerDeltaStats stats;
  OpWriter ops(out, format::Kind::kRaw, base.size(), HashAll(base), options.zstd_level, &stats);
  // bsdiff's match index over a 64 MiB base region would break the memory budget, and a delta of
  // compressed bytes gains little from it.
  EncodeOptions raw_options = options;
  raw_options.try_bsdiff = false;
  ContentEncoder content(base, ops, raw_options);
  TarIndexEntry whole;
  whole.size = base.size();
  HashingReader hashing(target);
  std::string window(raw_options.window_bytes, '\0');
  for (uint64_t at = 0;; at += window.size()) {
    size_t got = ReadUpTo(hashing, reinterpret_cast<uint8_t*>(window.data()), window.size());
    if (got == 0) break;
    content.Window(base.size() > 0 ? &whole : nullptr, at, std::string_view(window).substr(0, got));
  }
  ops.End(hashing.count(), hashing.Finish());
  return stats;
}

}  // namespace outpost::delta
