#include "delta/content_encoder.h"

#include <algorithm>
#include <cstdlib>
#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

#include "common/error.h"
#include "delta/bsdiff.h"
#include "delta/elf_delta.h"
#include "delta/inner_gzip.h"
#include "delta/zstd_util.h"

namespace outpost::delta {
namespace {

// Below this the bsdiff-style control overhead cannot beat zstd.
constexpr size_t kMinBsdiffBytes = 256;

// Candidates are sized at this fast level; only the likely winners are compressed at the final
// level (level 19 costs about 30x more).
constexpr int kEstimateLevel = 3;

// Caps on the final level for the payloads where zstd's slowest levels cost far more than they
// save (measured on the corpus's security update): bsdiff's difference runs (17 saves 3.2% of the
// bundle over 13 for 10% more diff time, 19 another 1.2%) and an opened gzip file's content (19
// saves under 0.1% of the bundle for several times the time).
constexpr int kBsdiffFinalLevel = 13;
constexpr int kInnerGzipFinalLevel = 12;

// zstd's levels above 12 index their reference with binary trees, at a few MB/s on binary data:
// a changed 40 MiB binary took 30 s to encode against its 48 MiB old window at level 17, and 2 s
// at level 12 for 0.6% more bytes. References over this size get at most that level (the
// corpus's largest changed file, 7 MB, is under it).
constexpr size_t kLargeReferenceBytes = 8 << 20;
constexpr int kLargeReferenceLevel = 12;

// Final-encode every candidate whose estimate is within this factor of the best estimate: the
// methods' sizes do not shrink equally from the fast level to the final one.
constexpr double kCloseFactor = 1.15;

// bsdiff is not tried on a large window when zstd with the base as reference already shrinks it
// below this fraction of its size: there is next to nothing left to gain (on the corpus's
// security update it skipped 14% of bsdiff's base indexing for 537 estimated bytes).
constexpr double kBsdiffWorthFraction = 0.01;

// Up to this size a file's bsdiff streams are left uncompressed to the outer stream (per-file
// zstd frames cost more than they save there), and the bytes alone are a candidate even when a
// base exists.
constexpr size_t kSmallBytes = 64 << 10;

// What bytes left to the outer stream cost there, from their size compressed alone: no frame
// header of their own, context shared with the same kind of bytes of the files before them, and
// new text compressed against old text (format version 2's segments; measured on the corpus's
// app-change layer, where many small source files change a little).
size_t OuterCost(size_t alone) { return alone * 2 / 3; }

// False when the environment sets OUTPOST_DELTA_ELF_REFS=0 (layer_delta.h, EncodeOptions).
bool ElfRefsAllowed() {
  static const bool allowed = [] {
    const char* v = std::getenv("OUTPOST_DELTA_ELF_REFS");
    return v == nullptr || std::string_view(v) != "0";
  }();
  return allowed;
}

// One way to encode a window: its estimated size, and how to make its final payload. `in_outer`:
// the payload is left to the outer zstd stream, so its final size is measured by compressing it.
struct Candidate {
  Method method;
  uint64_t base_offset, base_length;
  size_t estimate;
  std::function<std::string()> finish;
  bool in_outer = false;
  // For a payload left to the outer stream: the bytes its cost is measured on, when not all of
  // it (null: the payload).
  std::function<std::string()> measured = nullptr;
};

struct Chosen {
  Method method = Method::kLiteral;
  uint64_t base_offset = 0, base_length = 0;
  std::string payload;  // empty for kLiteral
};

// Final-encodes the candidates close to the best estimate and keeps the smallest.
Chosen Choose(const std::vector<Candidate>& candidates, int level) {
  size_t best_estimate = SIZE_MAX;
  for (const Candidate& c : candidates) best_estimate = std::min(best_estimate, c.estimate);
  double limit = kCloseFactor * static_cast<double>(best_estimate);
  Chosen best;
  size_t best_size = SIZE_MAX;
  for (const Candidate& c : candidates) {
    if (static_cast<double>(c.estimate) > limit) continue;
    std::string payload = c.finish();
    std::string outer = c.in_outer && c.measured ? c.measured() : std::string();
    std::string_view cost_bytes = c.measured ? std::string_view(outer) : std::string_view(payload);
    size_t size = !c.in_outer ? payload.size()
                              : OuterCost(CompressWithPrefix(cost_bytes, {}, level).size());
    if (size < best_size) {
      best_size = size;
      if (c.method == Method::kLiteral) payload.clear();
      best = Chosen{c.method, c.base_offset, c.base_length, std::move(payload)};
    }
  }
  return best;
}

}  // namespace

std::string ReadBase(const RandomAccess& base, uint64_t offset, uint64_t length) {
  std::string out(length, '\0');
  if (length > 0) base.ReadAt(offset, reinterpret_cast<uint8_t*>(out.data()), out.size());
  return out;
}

std::string ReadEntryContent(tar::Reader& tar, uint64_t n) {
  std::string out(n, '\0');
  size_t done = 0;
  while (done < n) {
    size_t got = tar.ReadData(reinterpret_cast<uint8_t*>(out.data()) + done, n - done);
    if (got == 0) throw Corruption("target tar ends inside an entry");
    done += got;
  }
  return out;
}

Outcome ContentEncoder::Window(const TarIndexEntry* base_file, uint64_t at,
                               std::string_view target, bool whole_file) {
  // How far around a window of a large file the base region reaches, for content that moved.
  const uint64_t margin = options_.window_bytes / 2;
  bool have_base = base_file != nullptr && at < base_file->size + margin;
  uint64_t start = 0, end = 0, base_offset = 0;
  std::string base;
  if (have_base) {
    start = at > margin ? at - margin : 0;
    end = std::min(base_file->size, at + target.size() + margin);
    base_offset = base_file->data_offset + start;
    base = ReadBase(base_, base_offset, end - start);
    if (at + target.size() <= end && std::string_view(base).substr(at - start, target.size()) == target) {
      ops_.Copy(base_file->data_offset + at, target.size());
      return Outcome::kCopied;
    }
  }
  std::vector<Candidate> candidates;
  if (!have_base || target.size() <= kSmallBytes) {
    size_t alone = CompressWithPrefix(target, {}, kEstimateLevel).size();
    candidates.push_back(Candidate{Method::kLiteral, 0, 0, OuterCost(alone),
                                   [&] { return std::string(target); }, true});
  }
  size_t ref_estimate = SIZE_MAX;
  if (have_base) {
    ref_estimate = CompressWithPrefix(target, base, kEstimateLevel).size();
    candidates.push_back(Candidate{Method::kZstdRef, base_offset, base.size(), ref_estimate,
                                   [&] {
                                     int level = base.size() > kLargeReferenceBytes
                                                     ? std::min(options_.zstd_level, kLargeReferenceLevel)
                                                     : options_.zstd_level;
                                     return CompressWithPrefix(target, base, level);
                                   }});
  }
  std::optional<InnerGzip> gz;
  if (whole_file && options_.open_inner_gzip && LooksGzipped(target)) {
    bool base_gz = have_base && start == 0 && end == base_file->size && LooksGzipped(base);
    std::string_view reference = base_gz ? std::string_view(base) : std::string_view();
    gz = OpenInnerGzip(reference, target);
    if (gz) {
      uint64_t gz_offset = base_gz ? base_offset : 0;
      candidates.push_back(Candidate{Method::kInnerGzip, gz_offset, reference.size(),
                                     EncodeInnerGzip(*gz, kEstimateLevel).size(),
                                     [&] {
                                       return EncodeInnerGzip(*gz, std::min(options_.zstd_level, kInnerGzipFinalLevel));
                                     }});
    }
  }
  bool worth = target.size() <= kSmallBytes ||
               static_cast<double>(ref_estimate) >= kBsdiffWorthFraction * static_cast<double>(target.size());
  // ELF_REF models a whole file against a whole base file.
  std::optional<ElfStreams> elf;
  if (worth && whole_file && options_.model_elf_refs && ElfRefsAllowed() && have_base && start == 0 && end == base_file->size &&
      target.size() >= kMinBsdiffBytes) {
    elf = ElfDiff(base, target);
  }
  if (elf && target.size() <= kSmallBytes) {
    // As a small file's BSDIFF: raw streams, costed like BSDIFF's by what the outer stream makes
    // of them with the mostly-zero ones (differences, and corrections here) left out.
    auto measured = [&] { return elf->masked.control + elf->masked.extra; };
    size_t alone = CompressWithPrefix(measured(), {}, kEstimateLevel).size();
    candidates.push_back(Candidate{Method::kElfRef, base_offset, base.size(), OuterCost(alone),
                                   [&] { return ElfPackRaw(*elf); }, true, measured});
  } else if (elf) {
    candidates.push_back(Candidate{Method::kElfRef, base_offset, base.size(), ElfPack(*elf, kEstimateLevel).size(),
                                   [&] { return ElfPack(*elf, std::min(options_.zstd_level, kBsdiffFinalLevel)); }});
  }
  BsdiffStreams streams;
  // A gzip file opened above is best encoded uncompressed: bsdiff of its compressed bytes
  // cannot win (measured on the corpus), and its base indexing is the costliest candidate.
  // And where zstd with the reference did nearly all there is to do in a large window, it is not
  // worth its time (a small file's bsdiff is cheap, and its raw streams in the outer stream win
  // there: 640 B of the corpus's app-change layer). A large ELF file ELF_REF encoded is not tried
  // again with its references in place: the masked matches were the costly part, and they win.
  bool large_elf = elf && target.size() > kSmallBytes;
  if (!gz && !large_elf && worth && have_base && options_.try_bsdiff && base.size() >= kMinBsdiffBytes &&
      target.size() >= kMinBsdiffBytes) {
    streams = BsdiffDiff(base, target);
    if (target.size() <= kSmallBytes) {
      // Raw streams: their cost is what the outer stream makes of them, estimated alone. The
      // differences, mostly zeros, have a stream of their own there and cost next to nothing.
      auto measured = [&] { return streams.control + streams.extra; };
      size_t alone = CompressWithPrefix(measured(), {}, kEstimateLevel).size();
      candidates.push_back(Candidate{Method::kBsdiff, base_offset, base.size(), OuterCost(alone),
                                     [&] { return BsdiffPackRaw(streams); }, true, measured});
    } else {
      candidates.push_back(Candidate{Method::kBsdiff, base_offset, base.size(),
                                     BsdiffPack(streams, kEstimateLevel).size(),
                                     [&] {
                                       return BsdiffPack(streams, std::min(options_.zstd_level, kBsdiffFinalLevel));
                                     }});
    }
  }
  Chosen best = Choose(candidates, options_.zstd_level);
  if (best.method == Method::kLiteral) {
    ops_.Literal(target);
    return Outcome::kNew;
  }
  ops_.Payload(best.method, best.base_offset, best.base_length, target.size(), best.payload);
  return have_base ? Outcome::kDelta : Outcome::kNew;
}

}  // namespace outpost::delta
