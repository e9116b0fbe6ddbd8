// Probe: find the recipe that rebuilds a blob exactly, and prove it.
//
// Detection narrows the candidates by the gzip header fingerprint (OS, XFL, MTIME) or the zstd
// frame header, runs each candidate against the blob and stops it at its first differing byte
// (most wrong candidates fail within the first few KiB), and trusts a candidate only after it
// has recompressed the whole layer to exactly the blob's size and sha256.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "codec/recipe.h"
#include "common/digest.h"
#include "common/io.h"

namespace outpost::codec {

struct ProbeResult {
  bool exact = false;     // true: `recipe` rebuilds the blob bit for bit (proven)
  Recipe recipe;          // valid only when exact
  std::string reason;     // when !exact: "no recipe: ..." for an operator
  Digest blob_digest;     // sha256 of the blob
  uint64_t blob_size = 0;
  Digest diff_id;         // sha256 of the uncompressed stream
  uint64_t uncompressed_size = 0;
  int candidates_tried = 0;
};

// Probes the blob that `open_blob` opens (from its first byte; it is called several times, once
// per pass). No match is a normal result (exact=false with a reason). Throws Corruption if the
// blob itself does not decompress, and whatever `open_blob` throws.
ProbeResult Probe(const std::function<std::unique_ptr<Reader>()>& open_blob);

// What a caller has already verified about a blob (its digests, checked while spooling it), and
// a way to read its uncompressed stream without decompressing it again (e.g. a spooled tar).
struct KnownBlob {
  Digest digest;
  uint64_t size = 0;
  Digest diff_id;
  uint64_t uncompressed_size = 0;
  std::function<std::unique_ptr<Reader>()> open_plain;
};

// Probe without the survey pass: candidates come from the blob's header alone and each one
// compresses `known.open_plain()`'s stream, trusting `known`'s facts (a match is still proven on
// the blob's every byte, its size and its sha256). When no candidate matches it runs
// Probe(open_blob), whose survey names the reason. Throws like Probe.
ProbeResult Probe(const std::function<std::unique_ptr<Reader>()>& open_blob, const KnownBlob& known);

// Probes a blob held in memory (a compressed file inside a layer).
ProbeResult ProbeBytes(std::string_view blob);

}  // namespace outpost::codec
