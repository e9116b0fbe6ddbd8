// Rebuilding one target layer from its bundle entry: the step the agent runs for real and the
// hub runs to prove a bundle before it is written.
#pragma once

#include <filesystem>
#include <optional>
#include <string_view>

#include "common/io.h"
#include "sync/image_source.h"
#include "protocol/bundle.h"

namespace outpost::sync {

// True for the methods rebuilt as a tar against the base's tar (present, tar delta): proven by
// their diffID, their paths checked while the delta applies. The others ship the blob's bytes.
inline bool ShipsAsTar(protocol::Method m) {
  return m == protocol::Method::kPresent || m == protocol::Method::kTarDelta;
}

// What the far side holds of the entry's base, opened for random access. `tar` is needed for
// present and tar-delta entries, `blob` (the bytes as the base store holds them) for raw-delta.
// `tar_digest` / `blob_digest`: their sha256 when the caller verified them as it spooled them
// (a delta then does not hash its base again).
struct BaseAccess {
  const RandomAccess* tar = nullptr;
  const RandomAccess* blob = nullptr;
  std::optional<Digest> tar_digest;
  std::optional<Digest> blob_digest;
};

// What an entry of `method` needs of `base`: its tar (present, tar delta) or its blob (raw delta),
// spooled and checked now, with the digest that check proved. Throws what the spools throw.
BaseAccess AccessFor(protocol::Method method, SpooledLayer& base);

// The most bytes the tar of a layer blob of `media_type` and `blob_size` can have: the blob size
// for an uncompressed layer, else times the compression's densest ratio (gzip 1032, zstd 32768)
// plus 64 KiB. Bundles and image signatures declare no tar size; this bound is what a hostile
// entry can make us write, or a signature make us hold, at most. No bound (UINT64_MAX) for a
// media type that is not a known layer type.
uint64_t TarSizeBound(std::string_view media_type, uint64_t blob_size);

// Writes the entry's uncompressed tar into `tar_out`, from `payload` (the entry's decoded
// payload) and `base`; checks it against the entry's diffID. Only for entries with a tar path
// (present, tar-delta, and whole or raw-delta of uncompressed layers, whose blob is the tar).
// Writes at most TarSizeBound(entry.media_type, entry.size) bytes (the blob, at most entry.size). `name` names the layer
// in errors (e.g. "layer 2/5 sha256:…"; empty: "layer <digest>").
// Throws Corruption (wrong base, damaged payload, digest mismatch, over a declared size),
// Security (unsafe path); errors of the delta name the layer, its method and its base.
void RebuildTar(const protocol::LayerEntry& entry, Reader& payload, const BaseAccess& base,
                const std::filesystem::path& scratch, Writer& tar_out, std::string_view name = {});

// Writes the entry's blob into `blob_out` and checks its digest and size; writes at most
// entry.size bytes. A tar rebuilt by the delta streams into the recipe's compressor on a second
// thread (no scratch file). Throws like RebuildTar.
void RebuildBlobOf(const protocol::LayerEntry& entry, Reader& payload, const BaseAccess& base, Writer& blob_out,
                   std::string_view name = {});

}  // namespace outpost::sync
