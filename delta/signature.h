// Block-signature mode: a delta against a base the encoder no longer holds. The far side computes a
// block signature of its base tar (the entry index with content hashes, each entry's header blocks,
// and librsync block signatures of each file's content); the hub encodes the target against the
// signature alone; the far side applies the result with ApplyLayerDelta against its real base. The
// serialized form is documented in docs/layer-signature-format.md. ("Signature" alone means the
// Ed25519 bundle signature, protocol/signing.h.)
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/io.h"
#include "delta/layer_delta.h"

namespace outpost::delta {

struct BlockSignature {
  TarIndex index;
  std::vector<std::string> headers;  // per entry: its header blocks (header_offset..data_offset)
  std::vector<std::string> blocks;   // per entry: librsync signature of its content (files only)

  // Signs a base tar. Reads it front to back once per entry range. Throws Corruption if it does
  // not parse.
  static BlockSignature Build(const RandomAccess& base_tar);

  // Serializes to `out`; Read parses what Write wrote and throws Corruption for anything else
  // (Unsupported for a newer format version). Read decodes as the bytes arrive and allocates only
  // for bytes that arrived: entries at most tar_size / 512, each a tar entry within the tar
  // (header blocks of 512-byte multiples, in order), the tar at most `max_tar_bytes` (the size
  // the caller knows the layer's tar can have) and at most 1 GiB decoded in all.
  void Write(Writer& out) const;
  static BlockSignature Read(outpost::Reader& in, uint64_t max_tar_bytes = UINT64_MAX);
};

// Encodes `target_tar` against the base the block `signature` describes: unchanged content is copied,
// headers are encoded as bytewise differences from the base's, changed files are librsync
// deltas against their base file.
// The result is an ordinary layer delta (ApplyLayerDelta). Same failures as EncodeLayerDelta.
LayerDeltaStats EncodeLayerDeltaFromBlockSignature(const BlockSignature& signature,
                                                   outpost::Reader& target_tar, Writer& delta_out,
                                                   const EncodeOptions& options = {});

// Applies a librsync `delta` whose basis is base[offset, offset + length); returns the result,
// which must be exactly `target_size` bytes. Throws Corruption otherwise.
std::string RsyncPatch(const RandomAccess& base, uint64_t offset, uint64_t length,
                       std::string_view delta, uint64_t target_size);

}  // namespace outpost::delta
