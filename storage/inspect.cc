#include "storage/inspect.h"

#include <unordered_set>

#include <nlohmann/json.hpp>

#include "common/error.h"

namespace outpost::storage {
namespace {

using Json = nlohmann::json;

constexpr size_t kHeadBytes = 1024;  // enough for any gzip header with a file name

// The gzip header at the front of `head`; nullopt when it is cut off or malformed (inspect
// reports what it finds, it does not fail on a layer).
std::optional<compress::GzipHeader> ParseGzipHead(std::string_view head) {
  try {
    return compress::GzipHeader::Parse(head);
  } catch (const Error&) {
    return std::nullopt;
  }
}

// Walks an image or index, verifying blobs and filling `out`.
class Inspector {
 public:
  Inspector(ImageStore& store, const InspectOptions& options, InspectReport& out)
      : store_(store), options_(options), out_(out) {}

  void Image(const image::ManifestBlob& blob, std::optional<image::Platform> platform) {
    image::Manifest m = image::Manifest::Parse(blob);
    ImageReport r{blob, platform, m.config, m.is_image(), {}};
    std::optional<image::Config> config = m.is_image() ? ReadConfig(m.config) : std::nullopt;
    if (!m.is_image()) Blob(m.config);
    if (config && !r.platform) r.platform = config->platform;
    for (size_t i = 0; i < m.layers.size(); ++i) {
      LayerReport layer{m.layers[i], std::nullopt, image::Compression::kNone, std::nullopt};
      if (config && config->diff_ids.size() == m.layers.size()) layer.diff_id = config->diff_ids[i];
      if (std::optional<std::string> head = Blob(m.layers[i])) {
        layer.compression = image::SniffCompression(*head);
        if (layer.compression == image::Compression::kGzip) layer.gzip = ParseGzipHead(*head);
      }
      r.layers.push_back(std::move(layer));
    }
    out_.images.push_back(std::move(r));
  }

  // Walks index `blob`, `depth` indexes deep (the top is 1), each digest once.
  void Index(const image::ManifestBlob& blob, int depth) {
    image::CheckIndexDepth(depth, blob.digest);
    for (const image::Descriptor& entry : image::Index::Parse(blob).manifests) {
      if (depth == 1) out_.entries.push_back(entry);
      if (!seen_.insert(entry.digest).second) continue;
      if (!image::IsManifestMediaType(entry.media_type)) {
        Blob(entry);  // an index may name other things; check their bytes all the same
        continue;
      }
      std::optional<image::ManifestBlob> child = Child(entry);
      if (!child) continue;
      try {
        if (child->is_index()) {
          Index(*child, depth + 1);
        } else {
          Image(*child, entry.platform);
        }
      } catch (const Error& e) {
        Problem(store_.DescribeBlob(entry.digest) + ": " + e.what());
      }
    }
  }

 private:
  void Problem(std::string line) { out_.problems.push_back(std::move(line)); }

  // Verifies blob `d` (streaming) and returns its first bytes; records a problem and returns
  // nullopt when it is missing or does not match.
  std::optional<std::string> Blob(const image::Descriptor& d) {
    try {
      std::unique_ptr<Reader> blob = store_.OpenBlob(d.digest, 0);
      if (options_.verify) {
        blob = std::make_unique<VerifyingReader>(std::move(blob), d.digest, d.size, store_.DescribeBlob(d.digest));
      }
      std::string head(kHeadBytes, '\0');
      head.resize(ReadUpTo(*blob, reinterpret_cast<uint8_t*>(head.data()), head.size()));
      NullWriter rest;
      if (options_.verify) Copy(*blob, rest);
      return head;
    } catch (const Error& e) {
      Problem(e.kind() == Error::Kind::kNotFound ? store_.DescribeBlob(d.digest) + ": blob is missing"
                                                  : std::string(e.what()));
      return std::nullopt;
    }
  }

  std::optional<image::Config> ReadConfig(const image::Descriptor& d) {
    std::string what = store_.DescribeBlob(d.digest);
    try {
      if (!store_.HasBlob(d.digest)) throw NotFound(what, ": config blob is missing");
      std::string bytes = ReadAll(*store_.OpenBlob(d.digest, 0), 64 << 20, "config blob " + what);
      image::VerifyDescriptor(d, bytes, what);
      return image::Config::Parse(std::move(bytes));
    } catch (const Error& e) {
      Problem(std::string(e.what()).starts_with(what) ? e.what() : what + ": " + e.what());
      return std::nullopt;
    }
  }

  std::optional<image::ManifestBlob> Child(const image::Descriptor& entry) {
    try {
      image::ManifestBlob child = store_.ReadManifest(entry.digest.str());
      image::VerifyDescriptor(entry, child.bytes, store_.DescribeBlob(entry.digest));
      return child;
    } catch (const Error& e) {
      if (e.kind() == Error::Kind::kNotFound) {
        out_.absent.push_back(entry);  // a partial index, not damage: the blobs it names are absent too
        return std::nullopt;
      }
      Problem(e.what());
      return ReadUnverified(entry);
    }
  }

 public:
  // The bytes stored under `d` parsed as a manifest although they do not match it, so the blobs
  // they name still get checked; nullopt when they cannot be read or parsed (already reported).
  std::optional<image::ManifestBlob> ReadUnverified(const image::Descriptor& d) {
    try {
      return image::ManifestBlob::FromBytes(ReadAll(*store_.OpenBlob(d.digest, 0), 64 << 20, store_.DescribeBlob(d.digest)),
                                            d.media_type);
    } catch (const Error&) {
      return std::nullopt;
    }
  }

 private:

  ImageStore& store_;
  const InspectOptions& options_;
  InspectReport& out_;
  std::unordered_set<Digest> seen_;  // every descriptor walked so far
};

// The entry of `index` for `want`, or throws NotFound listing what there is.
image::Descriptor PickPlatform(const image::ManifestBlob& index, const image::Platform& want, ImageStore& store) {
  std::string have;
  for (const image::Descriptor& e : image::Index::Parse(index).manifests) {
    if (e.platform && e.platform->Matches(want)) return e;
    if (e.platform) have += (have.empty() ? "" : ", ") + e.platform->str();
  }
  throw NotFound(store.Describe(), ": no image for platform ", want.str(), " (has ", have.empty() ? "none" : have, ")");
}

Json LayerJson(const LayerReport& l) {
  Json j = {{"digest", l.descriptor.digest.str()},
            {"diff_id", l.diff_id ? l.diff_id->str() : ""},
            {"size", l.descriptor.size},
            {"media_type", l.descriptor.media_type},
            {"compression", image::CompressionName(l.compression)}};
  if (l.gzip) {
    j["gzip"] = {{"mtime", l.gzip->mtime}, {"xfl", l.gzip->xfl}, {"os", l.gzip->os}, {"fname", l.gzip->name.value_or("")}};
  }
  return j;
}

Json ImageJson(const ImageReport& r) {
  Json layers = Json::array();
  for (const LayerReport& l : r.layers) layers.push_back(LayerJson(l));
  return {{"digest", r.manifest.digest.str()},
          {"media_type", r.manifest.media_type},
          {"size", r.manifest.bytes.size()},
          {"platform", r.platform ? r.platform->str() : ""},
          {"artifact", !r.is_image},
          {"config", r.config.digest.str()},
          {"config_media_type", r.config.media_type},
          {"layers", layers}};
}

std::string Hex2(uint8_t b) {
  static const char* kHex = "0123456789abcdef";
  return {kHex[b >> 4], kHex[b & 15]};
}

void ImageText(const ImageReport& r, const std::string& indent, std::string* out) {
  *out += indent + "manifest  " + r.manifest.digest.str() + "  " + r.manifest.media_type + "\n";
  if (r.platform) *out += indent + "platform  " + r.platform->str() + "\n";
  *out += indent + (r.is_image ? "config    " : "artifact  ") + r.config.digest.str() + "  " + r.config.media_type + "\n";
  for (size_t i = 0; i < r.layers.size(); ++i) {
    const LayerReport& l = r.layers[i];
    *out += indent + "layer " + std::to_string(i) + "   " + l.descriptor.digest.str() + "  " +
            std::to_string(l.descriptor.size) + " bytes  " + l.descriptor.media_type + "\n";
    *out += indent + "          diffID " + (l.diff_id ? l.diff_id->str() : "-") + "  compression " +
            std::string(image::CompressionName(l.compression));
    if (l.gzip) {
      *out += "  MTIME " + std::to_string(l.gzip->mtime) + " XFL " + Hex2(l.gzip->xfl) + " OS " + Hex2(l.gzip->os) +
              (l.gzip->name ? " FNAME " + *l.gzip->name : "");
    }
    *out += "\n";
  }
}

// Reads the manifest `tag_or_digest` names. When it does not match the descriptor the store
// holds for it, records that and goes on with the stored bytes.
image::ManifestBlob ReadTop(ImageStore& store, const std::string& tag_or_digest, Inspector& inspector,
                            InspectReport& report) {
  try {
    return store.ReadManifest(tag_or_digest);
  } catch (const Error& e) {
    std::optional<image::Descriptor> desc = e.kind() == Error::Kind::kCorruption ? store.Resolve(tag_or_digest) : std::nullopt;
    std::optional<image::ManifestBlob> stored = desc ? inspector.ReadUnverified(*desc) : std::nullopt;
    if (!stored) throw;
    report.problems.push_back(e.what());
    return *stored;
  }
}

}  // namespace

InspectReport Inspect(ImageStore& store, const std::string& tag_or_digest, const InspectOptions& options) {
  InspectReport report;
  Inspector inspector(store, options, report);
  report.top = ReadTop(store, tag_or_digest, inspector, report);
  if (report.top.is_index() && options.platform) {
    image::Descriptor entry = PickPlatform(report.top, *options.platform, store);
    report.top = store.ReadManifest(entry.digest.str());
    image::VerifyDescriptor(entry, report.top.bytes, store.DescribeBlob(entry.digest));
    inspector.Image(report.top, entry.platform);
  } else if (report.top.is_index()) {
    inspector.Index(report.top, 1);
  } else {
    inspector.Image(report.top, std::nullopt);
  }
  return report;
}

std::string ReportToJson(const InspectReport& report) {
  Json j;
  if (report.top.is_index()) {
    j = {{"digest", report.top.digest.str()}, {"media_type", report.top.media_type}};
    Json manifests = Json::array();
    for (const ImageReport& r : report.images) manifests.push_back(ImageJson(r));
    j["manifests"] = manifests;
    Json absent = Json::array();
    for (const image::Descriptor& d : report.absent) absent.push_back(d.digest.str());
    j["absent"] = absent;
  } else {
    j = ImageJson(report.images.at(0));
  }
  j["verified"] = report.problems.empty();
  j["problems"] = report.problems;
  return j.dump(2);
}

std::string ReportToText(const InspectReport& report) {
  std::string out;
  if (!report.top.is_index()) {
    ImageText(report.images.at(0), "", &out);
    return out;
  }
  out += "index     " + report.top.digest.str() + "  " + report.top.media_type + "\n";
  for (const image::Descriptor& e : report.entries) {
    out += "  " + (e.platform ? e.platform->str() : std::string("(no platform)")) + "  " + e.digest.str() + "\n";
  }
  for (const image::Descriptor& d : report.absent) out += "  (not in this store: " + d.digest.str() + ")\n";
  for (const ImageReport& r : report.images) {
    out += "\n";
    ImageText(r, "  ", &out);
  }
  return out;
}

}  // namespace outpost::storage
