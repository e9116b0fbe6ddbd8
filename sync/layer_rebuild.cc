#include "sync/layer_rebuild.h"

#include "common/async_io.h"
#include "common/error.h"
#include "compress/decompress.h"
#include "delta/layer_delta.h"
#include "sync/image_source.h"
#include "sync/layer_codec.h"

namespace outpost::sync {
namespace {

using protocol::Method;

const RandomAccess& Need(const RandomAccess* p, const protocol::LayerEntry& entry, const char* what) {
  if (p == nullptr) {
    throw NotFound("layer ", entry.digest.str(), " (", std::string(protocol::MethodName(entry.method)),
                   ") needs the base's ", what, ", which is not available");
  }
  return *p;
}

void CheckDigest(const Digest& got, uint64_t got_size, const Digest& want, uint64_t want_size,
                 const std::string& what) {
  if (got != want || got_size != want_size) {
    throw Corruption(what, " rebuilt as ", got.str(), " (", std::to_string(got_size), " bytes), expected ",
                     want.str(), " (", std::to_string(want_size), " bytes)");
  }
}

// Produces the tar, unchecked, for the methods that have one.
void WriteTar(const protocol::LayerEntry& entry, Reader& payload, const BaseAccess& base, Writer& out) {
  switch (entry.method) {
    case Method::kPresent: {
      const RandomAccess& tar = Need(base.tar, entry, "tar");
      RandomAccessReader r(tar, 0, tar.size());
      Copy(r, out);
      return;
    }
    case Method::kTarDelta:
      delta::ApplyLayerDelta(Need(base.tar, entry, "tar"), payload, out, base.tar_digest);
      return;
    case Method::kRawDelta:
      delta::ApplyRawDelta(Need(base.blob, entry, "blob"), payload, out, base.blob_digest);
      return;
    case Method::kWhole:
      Copy(payload, out);
      return;
  }
}

}  // namespace

BaseAccess AccessFor(Method method, SpooledLayer& base) {
  BaseAccess access;
  if (ShipsAsTar(method)) {
    access.tar = &base.Tar();
    access.tar_digest = base.layer().diff_id;
  }
  if (method == Method::kRawDelta) {
    access.blob = &base.Blob();
    access.blob_digest = base.layer().desc.digest;
  }
  return access;
}

void RebuildTar(const protocol::LayerEntry& entry, Reader& payload, const BaseAccess& base,
                const std::filesystem::path& scratch, Writer& tar_out) {
  if (entry.method == Method::kTarDelta) {
    // The applier has hashed the tar to check it against the digest the delta records.
    Digest got = delta::ApplyLayerDelta(Need(base.tar, entry, "tar"), payload, tar_out, base.tar_digest);
    if (got != entry.diff_id) {
      throw Corruption("layer ", entry.digest.str(), ": its delta rebuilds tar ", got.str(), ", not its diffID ",
                       entry.diff_id.str());
    }
    return;
  }
  HashingWriter hashing(&tar_out);
  if (entry.recipe.empty() || ShipsAsTar(entry.method)) {
    WriteTar(entry, payload, base, hashing);
  } else {
    // A compressed blob shipped whole or as raw delta: rebuild and check it, then uncompress.
    ScratchFile blob(scratch / "blob");
    RebuildBlobOf(entry, payload, base, blob.writer());
    auto tar = compress::OpenDecompressed(std::make_unique<FileReader>(blob.path()),
                                          image::LayerCompression(entry.media_type), "layer " + entry.digest.str());
    Copy(*tar, hashing);
  }
  uint64_t size = hashing.count();
  Digest got = hashing.Finish();
  if (got != entry.diff_id) {
    throw Corruption("layer ", entry.digest.str(), ": rebuilt tar (", std::to_string(size), " bytes) is ",
                     got.str(), ", not its diffID ", entry.diff_id.str());
  }
}

void RebuildBlobOf(const protocol::LayerEntry& entry, Reader& payload, const BaseAccess& base, Writer& blob_out) {
  HashingWriter hashing(&blob_out);
  if (ShipsAsTar(entry.method) && !entry.recipe.empty()) {
    // The tar streams into the compressor as it is rebuilt, on a second thread.
    ReadAheadReader tar([&](Writer& w) { WriteTar(entry, payload, base, w); });
    RebuildBlob(tar, entry.recipe, hashing);
  } else {
    WriteTar(entry, payload, base, hashing);
  }
  uint64_t size = hashing.count();
  CheckDigest(hashing.Finish(), size, entry.digest, entry.size, "layer " + entry.digest.str());
}

}  // namespace outpost::sync
