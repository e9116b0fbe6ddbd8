#include "codec/probe.h"

#define ZSTD_STATIC_LINKING_ONLY  // ZSTD_getFrameHeader, ZSTD_getCParams (stable in libzstd 1.5)
#include <zstd.h>

#include <algorithm>
#include <cstring>
#include <functional>
#include <optional>
#include <vector>

#include "codec/deflate_family.h"
#include "codec/rebuild.h"
#include "common/error.h"
#include "compress/decompress.h"
#include "compress/gzip_format.h"
#include "compress/gzip_reader.h"

namespace outpost::codec {
namespace {

constexpr size_t kSniffBytes = ZSTD_FRAMEHEADERSIZE_MAX;
// Enough for any gzip header seen in practice (FEXTRA, FNAME, FCOMMENT); a longer one takes the
// surveying path.
constexpr size_t kHeadBytes = 64 << 10;
constexpr int kZstdMaxLevel = 19;  // the zstd CLI's highest level without --ultra
// Every candidate is first screened over this much input by a run that compares each byte as the
// encoder emits it: a wrong encoder differs within its first block, while a full run's
// write-behind buffer would hide the mismatch for several MiB of compression. libzstd's
// multi-threaded mode emits nothing until a whole job (several MiB) is compressed, so a zstd MT
// candidate is screened by its single-threaded twin, which writes the same bytes for the first job.
constexpr uint64_t kScreenBytes = 1 << 20;

// Thrown inside one candidate's run when its output first differs from the blob.
struct Mismatch {
  uint64_t offset;
};

// Compares everything written with the next bytes of `expected`.
class CompareWriter : public Writer {
 public:
  explicit CompareWriter(Reader& expected) : expected_(expected) {}
  using Writer::Write;
  void Write(const uint8_t* data, size_t n) override {
    while (n > 0) {
      size_t k = std::min(n, sizeof(buffer_));
      size_t got = ReadUpTo(expected_, buffer_, k);
      for (size_t i = 0; i < got; ++i) {
        if (buffer_[i] != data[i]) throw Mismatch{pos_ + i};
      }
      if (got < k) throw Mismatch{pos_ + got};
      pos_ += k;
      data += k;
      n -= k;
    }
  }
  void ExpectEnd() {
    uint8_t b;
    if (expected_.Read(&b, 1) != 0) throw Mismatch{pos_};
  }

 private:
  Reader& expected_;
  uint64_t pos_ = 0;
  uint8_t buffer_[64 << 10];
};

// `head` (already read) followed by the rest of `rest`.
class PrefixedReader : public Reader {
 public:
  PrefixedReader(std::string head, Reader& rest) : head_(std::move(head)), rest_(rest) {}
  size_t Read(uint8_t* buf, size_t n) override {
    if (pos_ < head_.size()) {
      size_t k = std::min(n, head_.size() - pos_);
      std::memcpy(buf, head_.data() + pos_, k);
      pos_ += k;
      return k;
    }
    return rest_.Read(buf, n);
  }

 private:
  std::string head_;
  size_t pos_ = 0;
  Reader& rest_;
};

class SpanReader : public Reader {
 public:
  explicit SpanReader(std::string_view data) : data_(data) {}
  size_t Read(uint8_t* buf, size_t n) override {
    size_t k = std::min(n, data_.size());
    std::memcpy(buf, data_.data(), k);
    data_.remove_prefix(k);
    return k;
  }

 private:
  std::string_view data_;
};

// What one decompression pass learns about the blob.
struct Survey {
  image::Compression compression = image::Compression::kNone;
  std::optional<compress::GzipHeader> gzip_header;
  uint64_t gzip_members = 0;
  ZSTD_frameHeader zstd_frame{};
};

Survey SurveyBlob(const std::function<std::unique_ptr<Reader>()>& open_blob, ProbeResult* result) {
  std::unique_ptr<Reader> raw = open_blob();
  HashingReader hashed(*raw);
  std::string head(kSniffBytes, '\0');
  head.resize(ReadUpTo(hashed, reinterpret_cast<uint8_t*>(head.data()), head.size()));
  Survey s;
  s.compression = image::SniffCompression(head);
  if (s.compression == image::Compression::kZstd) {
    size_t ret = ZSTD_getFrameHeader(&s.zstd_frame, head.data(), head.size());
    if (ZSTD_isError(ret) || ret != 0) throw Corruption("zstd frame header is invalid or truncated");
  }
  PrefixedReader blob(std::move(head), hashed);
  std::unique_ptr<Reader> plain;
  compress::GzipReader* gzip = nullptr;
  if (s.compression == image::Compression::kGzip) {
    auto g = std::make_unique<compress::GzipReader>(blob);
    gzip = g.get();
    plain = std::move(g);
  } else {
    plain = compress::OpenDecompressed(blob, s.compression);
  }
  HashingReader uncompressed(*plain);
  NullWriter sink;
  Copy(uncompressed, sink);
  uint8_t extra;
  if (hashed.Read(&extra, 1) != 0) throw Corruption("blob has bytes after its compressed stream");
  result->blob_digest = hashed.Finish();
  result->blob_size = hashed.count();
  result->diff_id = uncompressed.Finish();
  result->uncompressed_size = uncompressed.count();
  if (gzip != nullptr) {
    s.gzip_header = gzip->first_header();
    s.gzip_members = gzip->member_count();
  }
  return s;
}

std::string Hex2(uint8_t v) { return HexEncode(&v, 1); }

std::vector<Recipe> GzipCandidates(const compress::GzipHeader& h) {
  std::vector<Recipe> out;
  for (const DeflateFamily& family : DeflateFamilies()) {
    for (const DeflateSpec& spec : family.candidates(h)) {
      Recipe r;
      r.compression = image::Compression::kGzip;
      r.gzip_header = h.raw;
      r.deflate = Normalize(spec);
      out.push_back(std::move(r));
    }
  }
  return out;
}

// The zstd CLI's settings: its levels (3 first), libzstd's MT mode (the CLI's default of one
// worker) then single-threaded, with the frame's own checksum and content-size flags. A frame
// whose window is not a single segment tells the level's window log, which narrows the levels.
std::vector<Recipe> ZstdCandidates(const ZSTD_frameHeader& f) {
  std::vector<Recipe> out;
  std::optional<uint64_t> size;
  if (f.frameContentSize != ZSTD_CONTENTSIZE_UNKNOWN) size = f.frameContentSize;
  std::vector<int> levels{3};
  for (int l = 1; l <= kZstdMaxLevel; ++l) {
    if (l != 3) levels.push_back(l);
  }
  bool single_segment = size && f.windowSize == *size;  // the window is the whole content
  for (int workers : {1, 0}) {
    for (int level : levels) {
      if (!single_segment) {
        ZSTD_compressionParameters cp = ZSTD_getCParams(level, size.value_or(ZSTD_CONTENTSIZE_UNKNOWN), 0);
        if ((uint64_t{1} << cp.windowLog) != f.windowSize) continue;
      }
      Recipe r;
      r.compression = image::Compression::kZstd;
      r.zstd = ZstdSpec{level, f.checksumFlag != 0, size, workers};
      out.push_back(r);
    }
  }
  return out;
}

// Where a candidate run reads: the blob to compare against, and its uncompressed stream.
struct Sources {
  std::function<std::unique_ptr<Reader>()> open_blob;
  std::function<std::unique_ptr<Reader>()> open_plain;
};

Sources Decompressing(const std::function<std::unique_ptr<Reader>()>& open_blob, image::Compression compression) {
  return {open_blob, [open_blob, compression] { return compress::OpenDecompressed(open_blob(), compression, "the blob"); }};
}

// False if `recipe`'s output differs from the blob within the first `limit` input bytes.
bool PassesScreen(const Recipe& recipe, const Sources& src, uint64_t limit, uint64_t* longest) {
  std::unique_ptr<Reader> expected = src.open_blob();
  std::unique_ptr<Reader> plain = src.open_plain();
  LimitedReader prefix(*plain, limit);
  CompareWriter compare(*expected);
  try {
    Compressor c(recipe, compare);
    Copy(prefix, c);  // not finished: only what the encoder emitted so far is compared
  } catch (const Mismatch& m) {
    *longest = std::max(*longest, m.offset);
    return false;
  }
  return true;
}

// Runs `recipe` over the blob's uncompressed stream against the blob; true if every byte, the
// length and the sha256 match. Updates `longest` with the matched prefix length on a mismatch.
bool TryCandidate(const Recipe& recipe, const Sources& src, const ProbeResult& facts, uint64_t* longest) {
  if (facts.uncompressed_size > kScreenBytes) {
    Recipe twin = recipe;
    twin.zstd.workers = 0;
    if (!PassesScreen(twin, src, kScreenBytes, longest)) return false;
  }
  std::unique_ptr<Reader> expected = src.open_blob();
  std::unique_ptr<Reader> plain = src.open_plain();
  CompareWriter compare(*expected);
  HashingWriter hashing(&compare);
  try {
    Rebuild(recipe, *plain, hashing);
    compare.ExpectEnd();
  } catch (const Mismatch& m) {
    *longest = std::max(*longest, m.offset);
    return false;
  }
  return hashing.count() == facts.blob_size && hashing.Finish() == facts.blob_digest;
}

// Runs the candidates in order until one is proven; records it (exact) in `result`.
bool TryInOrder(const std::vector<Recipe>& candidates, const Sources& src, ProbeResult* result, uint64_t* longest) {
  for (const Recipe& r : candidates) {
    ++result->candidates_tried;
    if (TryCandidate(r, src, *result, longest)) {
      result->exact = true;
      result->recipe = r;
      return true;
    }
  }
  return false;
}

ProbeResult NoRecipe(ProbeResult r, const std::string& why) {
  r.exact = false;
  r.reason = "no recipe: " + why;
  return r;
}

}  // namespace

ProbeResult Probe(const std::function<std::unique_ptr<Reader>()>& open_blob) {
  ProbeResult result;
  Survey s = SurveyBlob(open_blob, &result);
  std::vector<Recipe> candidates;
  std::string fingerprint;
  switch (s.compression) {
    case image::Compression::kNone:
      result.exact = true;
      result.recipe = Recipe{};
      return result;
    case image::Compression::kGzip:
      if (s.gzip_members != 1) {
        return NoRecipe(result, Concat("gzip stream has ", std::to_string(s.gzip_members),
                                       " members (eStargz or concatenated); recipes cover single-member streams"));
      }
      candidates = GzipCandidates(*s.gzip_header);
      fingerprint = Concat("gzip header OS=", std::to_string(s.gzip_header->os), " XFL=", std::to_string(s.gzip_header->xfl),
                           " FLG=", Hex2(s.gzip_header->flags), " MTIME=", std::to_string(s.gzip_header->mtime));
      break;
    case image::Compression::kZstd:
      if (s.zstd_frame.frameType == ZSTD_skippableFrame) return NoRecipe(result, "zstd stream starts with a skippable frame");
      candidates = ZstdCandidates(s.zstd_frame);
      fingerprint = Concat("zstd frame window=", std::to_string(s.zstd_frame.windowSize),
                           " checksum=", std::to_string(s.zstd_frame.checksumFlag));
      break;
  }
  uint64_t longest = 0;
  if (TryInOrder(candidates, Decompressing(open_blob, s.compression), &result, &longest)) return result;
  return NoRecipe(result, Concat("none of ", std::to_string(candidates.size()), " candidate encoders for ", fingerprint,
                                 " reproduces the blob (longest matching prefix ", std::to_string(longest), " of ",
                                 std::to_string(result.blob_size), " bytes)"));
}

ProbeResult Probe(const std::function<std::unique_ptr<Reader>()>& open_blob, const KnownBlob& known) {
  std::string head(kHeadBytes, '\0');
  head.resize(ReadUpTo(*open_blob(), reinterpret_cast<uint8_t*>(head.data()), head.size()));
  ProbeResult result;
  result.blob_digest = known.digest;
  result.blob_size = known.size;
  result.diff_id = known.diff_id;
  result.uncompressed_size = known.uncompressed_size;
  std::vector<Recipe> candidates;
  switch (image::SniffCompression(head)) {
    case image::Compression::kNone:
      result.exact = true;
      return result;
    case image::Compression::kGzip:
      if (auto h = compress::GzipHeader::Parse(head)) candidates = GzipCandidates(*h);
      break;
    case image::Compression::kZstd: {
      ZSTD_frameHeader f{};
      size_t ret = ZSTD_getFrameHeader(&f, head.data(), head.size());
      if (!ZSTD_isError(ret) && ret == 0 && f.frameType != ZSTD_skippableFrame) candidates = ZstdCandidates(f);
      break;
    }
  }
  uint64_t longest = 0;
  if (TryInOrder(candidates, Sources{open_blob, known.open_plain}, &result, &longest)) return result;
  return Probe(open_blob);  // its survey names the reason (members, frames, longest prefix)
}

ProbeResult ProbeBytes(std::string_view blob) {
  return Probe([blob] { return std::make_unique<SpanReader>(blob); });
}

}  // namespace outpost::codec
