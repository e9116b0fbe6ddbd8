#include "sync/layer_rebuild.h"

#include "common/async_io.h"
#include "common/error.h"
#include "compress/decompress.h"
#include "delta/layer_delta.h"
#include "image/image.h"
#include "sync/image_source.h"
#include "sync/layer_codec.h"

namespace outpost::sync {
namespace {

using protocol::Method;

// Upper bounds of a stream's decompressed size per compressed byte: DEFLATE spends at least two
// bits on a 258-byte match (one for the length code, one for the distance code), and a zstd
// RLE block, the densest, turns 4 bytes into at most 128 KiB. Real data never exceeds them.
constexpr uint64_t kMaxGzipRatio = 1032;
constexpr uint64_t kMaxZstdRatio = 32768;
constexpr uint64_t kRatioSlack = 64 << 10;  // headers, a last partial block

uint64_t SaturatingBound(uint64_t size, uint64_t ratio) {
  return size > (UINT64_MAX - kRatioSlack) / ratio ? UINT64_MAX : size * ratio + kRatioSlack;
}

// Passes bytes to `inner` until a declared size would be exceeded; then throws Corruption
// before writing, so a hostile entry cannot make us write (or compress) more than it declares.
class BoundedWriter : public Writer {
 public:
  BoundedWriter(Writer& inner, uint64_t limit, std::string what) : inner_(inner), limit_(limit), what_(std::move(what)) {}
  using Writer::Write;
  void Write(const uint8_t* data, size_t n) override {
    if (n > limit_ - count_) {
      throw Corruption(what_, " is larger than the ", std::to_string(limit_), " bytes its entry declares");
    }
    inner_.Write(data, n);
    count_ += n;
  }

 private:
  Writer& inner_;
  uint64_t limit_;
  std::string what_;
  uint64_t count_ = 0;
};

std::string NameOf(const protocol::LayerEntry& entry, std::string_view name) {
  return name.empty() ? "layer " + entry.digest.str() : std::string(name);
}

// Runs a delta application, naming the layer, its method and its base in what it throws.
template <typename F>
Digest NamingLayer(const protocol::LayerEntry& entry, std::string_view name, F apply) {
  try {
    return apply();
  } catch (const Error& e) {
    throw Error(e.kind(), NameOf(entry, name) + " (" + std::string(protocol::MethodName(entry.method)) +
                              (entry.base ? " against base #" + std::to_string(*entry.base) : std::string()) +
                              "): " + e.what());
  }
}

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

}  // namespace

uint64_t TarSizeBound(std::string_view media_type, uint64_t blob_size) {
  if (!image::IsLayerMediaType(media_type)) return UINT64_MAX;  // only the blob's own bound then
  switch (image::LayerCompression(media_type)) {
    case image::Compression::kNone: return blob_size;
    case image::Compression::kGzip: return SaturatingBound(blob_size, kMaxGzipRatio);
    case image::Compression::kZstd: return SaturatingBound(blob_size, kMaxZstdRatio);
  }
  return UINT64_MAX;
}

namespace {

// Produces the tar, unchecked, for the methods that have one, at most TarSizeBound bytes.
void WriteTar(const protocol::LayerEntry& entry, Reader& payload, const BaseAccess& base, Writer& tar_out,
              std::string_view name) {
  uint64_t bound = TarSizeBound(entry.media_type, entry.size);
  BoundedWriter out(tar_out, bound, NameOf(entry, name) + "'s tar");
  switch (entry.method) {
    case Method::kPresent: {
      const RandomAccess& tar = Need(base.tar, entry, "tar");
      RandomAccessReader r(tar, 0, tar.size());
      Copy(r, out);
      return;
    }
    case Method::kTarDelta:
      NamingLayer(entry, name, [&] { return delta::ApplyLayerDelta(Need(base.tar, entry, "tar"), payload, out, base.tar_digest, bound); });
      return;
    case Method::kRawDelta:
      NamingLayer(entry, name, [&] { return delta::ApplyRawDelta(Need(base.blob, entry, "blob"), payload, out, base.blob_digest, entry.size); });
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
                const std::filesystem::path& scratch, Writer& tar_out, std::string_view name) {
  if (entry.method == Method::kTarDelta) {
    // The applier has hashed the tar to check it against the digest the delta records.
    Digest got = NamingLayer(entry, name, [&] {
      return delta::ApplyLayerDelta(Need(base.tar, entry, "tar"), payload, tar_out, base.tar_digest, TarSizeBound(entry.media_type, entry.size));
    });
    if (got != entry.diff_id) {
      throw Corruption(NameOf(entry, name), ": its delta rebuilds tar ", got.str(), ", not its diffID ",
                       entry.diff_id.str());
    }
    return;
  }
  HashingWriter hashing(&tar_out);
  if (entry.recipe.empty() || ShipsAsTar(entry.method)) {
    WriteTar(entry, payload, base, hashing, name);
  } else {
    // A compressed blob shipped whole or as raw delta: rebuild and check it, then uncompress.
    ScratchFile blob(scratch / "blob");
    RebuildBlobOf(entry, payload, base, blob.writer(), name);
    auto tar = compress::OpenDecompressed(std::make_unique<FileReader>(blob.path()), image::LayerCompression(entry.media_type),
                                          NameOf(entry, name));
    BoundedWriter bounded(hashing, TarSizeBound(entry.media_type, entry.size), NameOf(entry, name) + "'s tar");
    Copy(*tar, bounded);
  }
  uint64_t size = hashing.count();
  Digest got = hashing.Finish();
  if (got != entry.diff_id) {
    throw Corruption(NameOf(entry, name), ": rebuilt tar (", std::to_string(size), " bytes) is ",
                     got.str(), ", not its diffID ", entry.diff_id.str());
  }
}

void RebuildBlobOf(const protocol::LayerEntry& entry, Reader& payload, const BaseAccess& base, Writer& blob_out,
                   std::string_view name) {
  // The blob stops at its declared size: with the tar's own bound, a hostile entry cannot make
  // the recompressor (or a whole payload's zstd frame) produce more than the entry declares.
  BoundedWriter bounded(blob_out, entry.size, NameOf(entry, name) + "'s blob");
  HashingWriter hashing(&bounded);
  if (ShipsAsTar(entry.method) && !entry.recipe.empty()) {
    // The tar streams into the compressor as it is rebuilt, on a second thread.
    ReadAheadReader tar([&](Writer& w) { WriteTar(entry, payload, base, w, name); });
    RebuildBlob(tar, entry.recipe, hashing);
  } else {
    WriteTar(entry, payload, base, hashing, name);
  }
  uint64_t size = hashing.count();
  CheckDigest(hashing.Finish(), size, entry.digest, entry.size, NameOf(entry, name));
}

}  // namespace outpost::sync
