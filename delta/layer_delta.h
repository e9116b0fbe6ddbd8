// Layer deltas: the smallest bytes that rebuild a target tar exactly from a base tar.
//
// A layer delta reconstructs the uncompressed target tar (every byte: headers, padding, content,
// trailer) from the uncompressed base tar. The encoder indexes the base by entry, streams the
// target and, per target entry, emits a copy from the base (same content anywhere in the base),
// a per-file delta against the most similar base file (zstd with the old file as reference, or a
// bsdiff-style delta; the smallest wins) or the new bytes. The format is in
// docs/layer-delta-format.md. Raw deltas do the same for arbitrary bytes with no tar structure
// (a compressed blob with no recipe).
//
// Memory is bounded whatever the layer size: large files are processed in windows
// (kWindowBytes) against the corresponding window of their base file.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/digest.h"
#include "common/io.h"

namespace outpost::delta {

// Large files are delta-encoded window by window against the same window of their base file.
inline constexpr uint64_t kWindowBytes = 32ull << 20;

struct TarIndex;

struct EncodeOptions {
  // zstd level for new bytes, headers and zstd-reference deltas: 19 saves 0.03% of the corpus's
  // security-update delta over 17 for 6% more encoding time.
  int zstd_level = 17;
  bool try_bsdiff = true;       // also try the bsdiff-style method on changed files
  bool open_inner_gzip = true;  // delta inner .gz files uncompressed when an exact recipe exists
  // Try the ELF_REF method on changed x86-64 ELF files. The environment variable
  // OUTPOST_DELTA_ELF_REFS=0 turns it off for every encode (benchmarks measure "before" with it).
  bool model_elf_refs = true;
  unsigned threads = 1;         // reserved: the encoder is single-threaded today
  uint64_t window_bytes = kWindowBytes;  // window for large files, at most kWindowBytes (tests
                                         // use small windows to cross boundaries cheaply)
  // The target's sha256 when the caller has proven it already (a layer's diffID checked while
  // spooling): recorded as is instead of hashing the target again. A wrong one makes a delta
  // that fails to apply (its END digest), never a wrong tar.
  std::optional<Digest> target_digest;
  // The target's index when the caller has it (built before, or cached): its content hashes stand
  // in for hashing each target entry. A wrong one makes a delta that fails to apply (its END
  // digest), never a wrong tar. Must outlive the call.
  const TarIndex* target_index = nullptr;
};

// The methods a piece of target content can be encoded with (the op names of the format).
enum class Method : uint8_t {
  kLiteral = 0,  // the bytes themselves (compressed by the delta's outer zstd stream)
  kCopy = 1,     // unchanged: copied from the base
  kAdd = 2,      // a tar header as bytewise differences from the base entry's header
  kZstdRef = 3,  // zstd with the base file (window) as reference prefix
  kBsdiff = 4,   // bsdiff-style: control/difference/extra streams, each zstd
  kRsync = 5,    // a librsync delta against a base range (signature mode)
  kInnerGzip = 6,  // a gzip file delta-encoded uncompressed, rebuilt by GNU gzip's encoder
  kElfRef = 7,     // an x86-64 ELF file: bsdiff-style with its code references modelled
};
inline constexpr int kMethodCount = 8;

// What an encode did, for logs and the bundle's inspect output.
struct LayerDeltaStats {
  uint64_t target_bytes = 0;    // size of the target tar (or raw target)
  uint64_t delta_bytes = 0;     // bytes written to the delta output
  uint64_t copied_entries = 0;  // target files whose content was copied from the base
  uint64_t delta_entries = 0;   // target files encoded against a base file
  uint64_t new_entries = 0;     // target files encoded as new bytes
  uint64_t method_target_bytes[kMethodCount] = {};  // target bytes covered by each Method
  uint64_t method_delta_bytes[kMethodCount] = {};   // payload bytes spent by each Method
                                                    // (before the outer zstd stream)
  Digest target_digest;         // sha256 of the whole target (the layer's diffID for a tar)
};

struct TarIndex;

// Encodes the uncompressed `target_tar` as a delta against the uncompressed `base_tar`, writing
// it to `delta_out`. Streams the target once; reads the base at random (it is indexed first).
// Throws Corruption if either tar does not parse, Security if a target entry's path is absolute
// or has a ".." component (layers are extracted later), IO errors from the streams.
LayerDeltaStats EncodeLayerDelta(const RandomAccess& base_tar, outpost::Reader& target_tar,
                                 Writer& delta_out, const EncodeOptions& options = {});
// The same with the base's index already built (e.g. kept by the hub's cache): `base_index`
// must be TarIndex::Build of `base_tar`; a wrong one makes a delta that fails to apply (its
// END digest), never a wrong tar.
LayerDeltaStats EncodeLayerDelta(const RandomAccess& base_tar, const TarIndex& base_index,
                                 outpost::Reader& target_tar, Writer& delta_out,
                                 const EncodeOptions& options = {});

// Rebuilds the exact target tar from `base_tar` and `delta`, streaming it to `target_tar_out`;
// returns the target's sha256. Throws Corruption when the base is not the one the delta was made
// against (its size and sha256 are recorded and checked first), when the delta is truncated or
// corrupt, or when the rebuilt bytes do not hash to the recorded target digest; Security when a
// rebuilt entry's path is absolute or has a ".." component. On a throw, bytes already written to
// `target_tar_out` must be discarded by the caller (write into an AtomicFile, commit on success).
// `base_digest`, when given, is the sha256 of `base_tar` the caller has verified already (a base
// tar checked against its diffID as it was spooled): it is compared with the recorded one instead
// of hashing the base again. A false claim cannot produce a wrong tar: the rebuilt bytes are still
// checked against the recorded target digest.
// `max_target_bytes`: the most the target may have (a size its container declares); an op that
// would go past it is refused (Corruption) before it does any work or writes a byte, so a small
// delta of repeated copies cannot push more than that through the output.
Digest ApplyLayerDelta(const RandomAccess& base_tar, outpost::Reader& delta,
                       Writer& target_tar_out, const std::optional<Digest>& base_digest = std::nullopt,
                       uint64_t max_target_bytes = UINT64_MAX);

// Applies `delta` against `base_tar` without keeping the output and returns the rebuilt
// target's sha256 (which ApplyLayerDelta has already checked against the recorded one). The
// bundle writer calls this to prove a delta before shipping it.
Digest VerifyLayerDelta(const RandomAccess& base_tar, outpost::Reader& delta);

// Delta of arbitrary bytes (a compressed blob with no recipe): windowed zstd with the base as
// reference. Same container format as layer deltas, with no tar checks.
LayerDeltaStats EncodeRawDelta(const RandomAccess& base, outpost::Reader& target, Writer& out,
                               const EncodeOptions& options = {});
// Rebuilds the raw target; same failures and bound as ApplyLayerDelta (minus the path checks).
Digest ApplyRawDelta(const RandomAccess& base, outpost::Reader& delta, Writer& out,
                     const std::optional<Digest>& base_digest = std::nullopt,
                     uint64_t max_target_bytes = UINT64_MAX);

// One entry of a tar, as the delta engine matches it.
struct TarIndexEntry {
  std::string name;
  char type = '0';
  uint64_t size = 0;           // content bytes
  uint64_t header_offset = 0;  // where the entry's header blocks start (after the padding of
                               // the previous entry)
  uint64_t data_offset = 0;    // where its content starts
  Digest content;              // sha256 of the content (regular files; zero otherwise)
};

// An index of a tar's entries with content hashes: what the encoder matches against and what a
// signature carries.
struct TarIndex {
  std::vector<TarIndexEntry> entries;
  uint64_t tar_size = 0;
  Digest tar_digest;  // sha256 of the whole tar stream

  // Reads the whole tar from `tar` (once, streaming). Throws Corruption if it does not parse.
  static TarIndex Build(outpost::Reader& tar);

  // The index as bytes (docs/recipe-format.md, "Hub cache"), and back. Parse throws Corruption
  // for anything Serialize did not write (truncation, trailing bytes, offsets out of order).
  std::string Serialize() const;
  static TarIndex Parse(std::string_view bytes);
};

// How much of `target` `base` can supply, cheaply, from the indexes alone: the fraction of the
// target's bytes (content plus a header block per entry) found in the base by content hash (or
// by path, for entries with no content), plus half the fraction whose path exists in the base
// with other content. In [0, 1]; used to pick the best base per
// target layer among many.
double Similarity(const TarIndex& base, const TarIndex& target);

}  // namespace outpost::delta
