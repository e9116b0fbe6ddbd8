#include "storage/copy.h"

#include <unordered_set>

#include <nlohmann/json.hpp>

#include "common/error.h"
#include "common/file.h"
#include "compress/decompress.h"

namespace outpost::storage {
namespace {

using Json = nlohmann::json;

class Copier {
 public:
  Copier(ImageStore& src, ImageStore& dst, const CopyOptions& options) : src_(src), dst_(dst), options_(options) {}

  // Copies the blobs under manifest or index `blob`, `depth` indexes deep (the top is 1), each
  // manifest once; returns what to write for `blob`. The manifests under an index are only
  // queued (children first): WriteQueued() writes them once every blob has arrived, so a copy
  // that fails part-way adds no manifest or index.json entry to the destination.
  image::ManifestBlob Tree(const image::ManifestBlob& blob, int depth = 1) {
    if (!blob.is_index()) return Image(blob);
    if (!dst_.HoldsCompressedLayers()) {
      std::string have;
      for (const image::Descriptor& e : image::Index::Parse(blob).manifests) {
        if (e.platform) have += (have.empty() ? "" : ", ") + e.platform->str();
      }
      throw Unsupported(dst_.Describe(), ": a docker-archive holds one platform; choose one with --platform (",
                        have.empty() ? "none listed" : have, ")");
    }
    image::CheckIndexDepth(depth, blob.digest);
    for (const image::Descriptor& e : image::Index::Parse(blob).manifests) {
      if (!copied_.insert(e.digest).second) continue;
      image::ManifestBlob child = src_.ReadManifest(e.digest.str());
      image::VerifyDescriptor(e, child.bytes, src_.DescribeBlob(e.digest));
      Tree(child, depth + 1);
      queued_.push_back(std::move(child));  // as the index names it, whatever Tree wrote
    }
    return blob;
  }

  void WriteQueued() {
    for (const image::ManifestBlob& m : queued_) dst_.WriteManifest(m, "");
  }

  bool rewritten() const { return rewritten_; }

 private:
  image::ManifestBlob Image(const image::ManifestBlob& blob) {
    image::Manifest m = image::Manifest::Parse(blob);
    CopyBlob(m.config);
    if (dst_.HoldsCompressedLayers() || !NeedsDecompression(m)) {
      for (const image::Descriptor& layer : m.layers) CopyBlob(layer);
      if (src_.SynthesizesManifests() && dst_.HoldsCompressedLayers()) return OciManifestFor(m);
      return blob;
    }
    return DecompressInto(m);
  }

  // An OCI manifest for an image read from a store without manifests of its own (whose layers
  // are uncompressed tars): same config and layer bytes, accurate media types.
  image::ManifestBlob OciManifestFor(const image::Manifest& m) {
    auto descriptor = [](std::string_view media_type, const image::Descriptor& d) {
      return Json{{"mediaType", media_type}, {"digest", d.digest.str()}, {"size", d.size}};
    };
    Json layers = Json::array();
    for (const image::Descriptor& l : m.layers) layers.push_back(descriptor(image::media::kOciLayer, l));
    Json doc = {{"schemaVersion", 2},
                {"mediaType", image::media::kOciManifest},
                {"config", descriptor(image::media::kOciConfig, m.config)},
                {"layers", layers}};
    rewritten_ = true;
    return image::ManifestBlob::FromBytes(doc.dump(), image::media::kOciManifest);
  }

  static bool NeedsDecompression(const image::Manifest& m) {
    for (const image::Descriptor& l : m.layers) {
      if (image::LayerCompression(l.media_type) != image::Compression::kNone) return true;
    }
    return false;
  }

  void Progress(const std::string& line) {
    if (options_.progress) options_.progress(line);
  }

  void CopyBlob(const image::Descriptor& d) {
    if (dst_.HasBlob(d.digest)) {
      Progress("blob " + d.digest.str() + " already present");
      return;
    }
    Progress("copying blob " + d.digest.str() + " (" + std::to_string(d.size) + " bytes)");
    VerifyingReader in(src_.OpenBlob(d.digest, 0), d.digest, d.size, src_.DescribeBlob(d.digest));
    dst_.WriteBlob(d.digest, d.size, in);
  }

  // Decompresses every layer into `dst_`, checks it against the config's diff_ids and returns
  // the rewritten manifest.
  image::ManifestBlob DecompressInto(const image::Manifest& m) {
    if (!m.is_image()) throw Unsupported(dst_.Describe(), ": cannot hold artifact ", m.blob.digest.str());
    image::Config config = image::Config::Parse(
        ReadAll(*src_.OpenBlob(m.config.digest, 0), 64 << 20, "config blob " + src_.DescribeBlob(m.config.digest)));
    if (config.diff_ids.size() != m.layers.size()) {
      throw Corruption(src_.DescribeBlob(m.config.digest), ": lists ", std::to_string(config.diff_ids.size()),
                       " diff_ids for ", std::to_string(m.layers.size()), " layers");
    }
    Json doc = Json::parse(m.blob.bytes);
    for (size_t i = 0; i < m.layers.size(); ++i) {
      uint64_t size = DecompressLayer(m.layers[i], config.diff_ids[i]);
      Json& layer = doc["layers"][i];
      layer["mediaType"] = image::UncompressedLayerMediaType(m.layers[i].media_type);
      layer["digest"] = config.diff_ids[i].str();
      layer["size"] = size;
      layer.erase("urls");
    }
    rewritten_ = true;
    return image::ManifestBlob::FromBytes(doc.dump(), m.blob.media_type);
  }

  // Writes the uncompressed form of `layer` (which must hash to `diff_id`); returns its size.
  uint64_t DecompressLayer(const image::Descriptor& layer, const Digest& diff_id) {
    image::Compression c = image::LayerCompression(layer.media_type);
    if (c == image::Compression::kNone) {
      CopyBlob(layer);
      return static_cast<uint64_t>(layer.size);
    }
    Progress("decompressing layer " + layer.digest.str() + " to " + diff_id.str());
    std::string what = src_.DescribeBlob(layer.digest);
    auto compressed = std::make_unique<VerifyingReader>(src_.OpenBlob(layer.digest, 0), layer.digest, layer.size, what);
    auto plain = compress::OpenDecompressed(std::move(compressed), c, what);
    TempDir temp;
    fs::path spool = temp.path() / "layer.tar";
    AtomicFile out(spool);
    HashingWriter tee(&out);
    Copy(*plain, tee);
    out.Commit();
    Digest got = tee.Finish();
    if (got != diff_id) {
      throw Corruption(what, ": decompresses to ", got.str(), " but the config's diff_id is ", diff_id.str());
    }
    FileReader in(spool);
    dst_.WriteBlob(diff_id, static_cast<int64_t>(tee.count()), in);
    return tee.count();
  }

  ImageStore& src_;
  ImageStore& dst_;
  const CopyOptions& options_;
  bool rewritten_ = false;
  std::unordered_set<Digest> copied_;  // manifests and indexes already copied
  std::vector<image::ManifestBlob> queued_;  // manifests under the top index, children first
};

}  // namespace

CopyResult CopyImage(ImageStore& src, const std::string& selector, ImageStore& dst, const std::string& dst_tag,
                     const CopyOptions& options) {
  image::ManifestBlob top = src.ReadManifest(selector);
  CopyResult result;
  result.source_digest = top.digest;
  if (top.is_index() && options.platform) {
    std::string have;
    for (const image::Descriptor& e : image::Index::Parse(top).manifests) {
      if (!e.platform || !e.platform->Matches(*options.platform)) {
        if (e.platform) have += (have.empty() ? "" : ", ") + e.platform->str();
        continue;
      }
      top = src.ReadManifest(e.digest.str());
      image::VerifyDescriptor(e, top.bytes, src.DescribeBlob(e.digest));
      have.clear();
      break;
    }
    if (top.is_index()) {
      throw NotFound(src.Describe(), ": no image for platform ", options.platform->str(), " (has ", have, ")");
    }
  }
  Copier copier(src, dst, options);
  image::ManifestBlob written = copier.Tree(top);
  copier.WriteQueued();
  dst.WriteManifest(written, dst_tag);
  dst.Commit();
  result.destination_digest = written.digest;
  result.rewritten = copier.rewritten();
  if (result.rewritten && options.notice) {
    options.notice(std::string(dst.HoldsCompressedLayers() ? "wrote an OCI manifest (the source has none of its own)"
                                                           : "layers decompressed for " + dst.Describe()) +
                   ": manifest " + top.digest.str() + " became " + written.digest.str() +
                   " (the config digest, i.e. the image ID, is unchanged)");
  }
  return result;
}

}  // namespace outpost::storage
