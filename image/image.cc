#include "image/image.h"

#include <algorithm>
#include <cctype>

#include <nlohmann/json.hpp>

#include "common/error.h"

namespace outpost::image {
namespace {

using Json = nlohmann::json;

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

// Parses a JSON object or throws Corruption naming `what`.
Json ParseObject(std::string_view bytes, const std::string& what) {
  Json doc = Json::parse(bytes, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) throw Corruption(what, ": malformed JSON");
  if (!doc.is_object()) throw Corruption(what, ": JSON is not an object");
  return doc;
}

std::string StringField(const Json& obj, const char* key, const std::string& what) {
  auto it = obj.find(key);
  if (it == obj.end() || !it->is_string()) throw Corruption(what, ": missing string field \"", key, "\"");
  return it->get<std::string>();
}

std::string OptionalString(const Json& obj, const char* key) {
  auto it = obj.find(key);
  return it != obj.end() && it->is_string() ? it->get<std::string>() : std::string();
}

Digest ParseDigestField(const Json& obj, const std::string& what) {
  std::string text = StringField(obj, "digest", what);
  if (!StartsWith(text, "sha256:")) throw Unsupported(what, ": digest algorithm of ", text, " is not sha256");
  if (!Digest::IsValid(text)) throw Corruption(what, ": invalid digest \"", text, "\"");
  return Digest::Parse(text);
}

// RFC 6838 "type/subtype" with the characters it allows (suffixes and parameters included).
bool IsWellFormedMediaType(std::string_view t) {
  size_t slash = t.find('/');
  if (slash == std::string_view::npos || slash == 0 || slash + 1 == t.size() || t.size() > 255) return false;
  return std::all_of(t.begin(), t.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || std::string_view("!#$&^_.+-/;= \"").find(c) != std::string_view::npos;
  });
}

Descriptor ParseDescriptor(const Json& obj, const std::string& what) {
  if (!obj.is_object()) throw Corruption(what, ": descriptor is not an object");
  Descriptor d;
  d.media_type = StringField(obj, "mediaType", what);
  if (!IsWellFormedMediaType(d.media_type)) throw Corruption(what, ": malformed media type \"", d.media_type, "\"");
  d.digest = ParseDigestField(obj, what);
  auto size = obj.find("size");
  if (size == obj.end() || !size->is_number_integer() || size->get<int64_t>() < 0) {
    throw Corruption(what, ": missing or negative \"size\"");
  }
  d.size = size->get<int64_t>();
  if (auto p = obj.find("platform"); p != obj.end() && p->is_object()) {
    d.platform = Platform{OptionalString(*p, "os"), OptionalString(*p, "architecture"),
                          OptionalString(*p, "variant")};
  }
  if (auto a = obj.find("annotations"); a != obj.end() && a->is_object()) d.annotations_json = a->dump();
  return d;
}

void CheckSchemaVersion(const Json& doc, const std::string& what) {
  auto v = doc.find("schemaVersion");
  if (v == doc.end() || !v->is_number_integer()) throw Corruption(what, ": missing schemaVersion");
  if (v->get<int64_t>() == 1) throw Unsupported(what, ": Docker schema 1 manifests are not supported");
  if (v->get<int64_t>() != 2) throw Unsupported(what, ": schemaVersion ", v->dump(), " is not 2");
}

const Json& ArrayField(const Json& doc, const char* key, const std::string& what) {
  auto it = doc.find(key);
  if (it == doc.end() || !it->is_array()) throw Corruption(what, ": missing array \"", key, "\"");
  return *it;
}

std::string ManifestName(const ManifestBlob& blob) { return "manifest " + blob.digest.str(); }

}  // namespace

bool IsLayerMediaType(std::string_view t) {
  for (std::string_view base : {"application/vnd.oci.image.layer.v1.tar",
                                "application/vnd.oci.image.layer.nondistributable.v1.tar",
                                "application/vnd.docker.image.rootfs.diff.tar",
                                "application/vnd.docker.image.rootfs.foreign.diff.tar"}) {
    if (!StartsWith(t, base)) continue;
    std::string_view rest = t.substr(base.size());
    if (rest.empty() || rest == "+gzip" || rest == "+zstd" || rest == ".gzip" || rest == ".zstd") return true;
  }
  return false;
}

Compression LayerCompression(std::string_view t) {
  if (!IsLayerMediaType(t)) throw Unsupported("media type ", std::string(t), " is not a layer");
  if (EndsWith(t, "gzip")) return Compression::kGzip;
  if (EndsWith(t, "zstd")) return Compression::kZstd;
  return Compression::kNone;
}

bool IsManifestMediaType(std::string_view t) {
  return t == media::kOciManifest || t == media::kOciIndex || t == media::kDockerManifest ||
         t == media::kDockerList;
}

bool IsImageConfigMediaType(std::string_view t) {
  return t == media::kOciConfig || t == media::kDockerConfig;
}

std::string_view UncompressedLayerMediaType(std::string_view t) {
  if (!IsLayerMediaType(t)) throw Unsupported("media type ", std::string(t), " is not a layer");
  return StartsWith(t, "application/vnd.oci.") ? media::kOciLayer : media::kDockerLayer;
}

std::string Platform::str() const {
  return variant.empty() ? os + "/" + architecture : os + "/" + architecture + "/" + variant;
}

Platform Platform::Parse(std::string_view text) {
  Platform p;
  size_t a = text.find('/');
  size_t b = a == std::string_view::npos ? a : text.find('/', a + 1);
  if (a == std::string_view::npos || a == 0 || a + 1 == text.size() || b == a + 1) {
    throw InvalidArgument("platform \"", std::string(text), "\" is not OS/ARCH[/VARIANT] (e.g. linux/arm64)");
  }
  p.os = std::string(text.substr(0, a));
  p.architecture = std::string(text.substr(a + 1, b == std::string_view::npos ? b : b - a - 1));
  if (b != std::string_view::npos) p.variant = std::string(text.substr(b + 1));
  return p;
}

bool Platform::Matches(const Platform& want) const {
  return os == want.os && architecture == want.architecture &&
         (want.variant.empty() || variant == want.variant);
}

ManifestBlob ManifestBlob::FromBytes(std::string bytes, std::string_view media_type) {
  ManifestBlob blob;
  blob.digest = Digest::Of(bytes);
  std::string what = ManifestName(blob);
  Json doc = ParseObject(bytes, what);
  std::string declared = OptionalString(doc, "mediaType");
  if (doc.contains("schemaVersion") && doc["schemaVersion"] == 1) {
    throw Unsupported(what, ": Docker schema 1 manifests are not supported");
  }
  if (!media_type.empty()) {
    blob.media_type = std::string(media_type);
  } else if (!declared.empty()) {
    blob.media_type = declared;
  } else if (doc.contains("manifests")) {
    blob.media_type = std::string(media::kOciIndex);
  } else if (doc.contains("config")) {
    blob.media_type = std::string(media::kOciManifest);
  } else {
    throw Corruption(what, ": neither a manifest nor an index (no mediaType, config or manifests)");
  }
  if (!IsManifestMediaType(blob.media_type)) {
    throw Unsupported(what, ": unknown manifest media type \"", blob.media_type, "\"");
  }
  blob.bytes = std::move(bytes);
  return blob;
}

Manifest Manifest::Parse(const ManifestBlob& blob) {
  std::string what = ManifestName(blob);
  if (blob.is_index()) throw InvalidArgument(what, " is an index, not an image manifest");
  Json doc = ParseObject(blob.bytes, what);
  CheckSchemaVersion(doc, what);
  Manifest m;
  m.blob = blob;
  auto config = doc.find("config");
  if (config == doc.end()) throw Corruption(what, ": missing \"config\"");
  m.config = ParseDescriptor(*config, what + " config");
  const Json& layers = ArrayField(doc, "layers", what);
  for (size_t i = 0; i < layers.size(); ++i) {
    m.layers.push_back(ParseDescriptor(layers[i], what + " layer " + std::to_string(i)));
  }
  return m;
}

bool Manifest::is_image() const {
  return IsImageConfigMediaType(config.media_type) &&
         std::all_of(layers.begin(), layers.end(), [](const Descriptor& l) { return IsLayerMediaType(l.media_type); });
}

Index Index::Parse(const ManifestBlob& blob) {
  std::string what = "index " + blob.digest.str();
  if (!blob.is_index()) throw InvalidArgument(what, " is an image manifest, not an index");
  Json doc = ParseObject(blob.bytes, what);
  CheckSchemaVersion(doc, what);
  Index index;
  index.blob = blob;
  if (doc.contains("manifests") && doc["manifests"].is_null()) doc["manifests"] = Json::array();  // Go's nil slice
  const Json& manifests = ArrayField(doc, "manifests", what);
  for (size_t i = 0; i < manifests.size(); ++i) {
    index.manifests.push_back(ParseDescriptor(manifests[i], what + " entry " + std::to_string(i)));
  }
  return index;
}

Config Config::Parse(std::string bytes) {
  Config c;
  c.digest = Digest::Of(bytes);
  std::string what = "config " + c.digest.str();
  Json doc = ParseObject(bytes, what);
  auto rootfs = doc.find("rootfs");
  if (rootfs == doc.end() || !rootfs->is_object()) throw Corruption(what, ": missing \"rootfs\"");
  const Json& diff_ids = ArrayField(*rootfs, "diff_ids", what + " rootfs");
  for (const Json& id : diff_ids) {
    if (!id.is_string() || !Digest::IsValid(id.get<std::string>())) {
      throw Corruption(what, ": invalid diff_id ", id.dump());
    }
    c.diff_ids.push_back(Digest::Parse(id.get<std::string>()));
  }
  c.platform = Platform{OptionalString(doc, "os"), OptionalString(doc, "architecture"),
                        OptionalString(doc, "variant")};
  c.bytes = std::move(bytes);
  return c;
}

void CheckIndexDepth(int depth, const Digest& index) {
  if (depth > kMaxIndexDepth) {
    throw Corruption("index ", index.str(), " nests more than ", std::to_string(kMaxIndexDepth),
                     " indexes deep; refusing it (real images nest 2 or 3)");
  }
}

std::vector<Descriptor> ReferencedDescriptors(const ManifestBlob& blob) {
  if (blob.is_index()) return Index::Parse(blob).manifests;
  Manifest m = Manifest::Parse(blob);
  std::vector<Descriptor> out{m.config};
  out.insert(out.end(), m.layers.begin(), m.layers.end());
  return out;
}

void VerifyDescriptor(const Descriptor& desc, std::string_view bytes, std::string_view what) {
  Digest got = Digest::Of(bytes);
  if (got != desc.digest || static_cast<int64_t>(bytes.size()) != desc.size) {
    throw Corruption(std::string(what), ": digest is ", got.str(), " (", std::to_string(bytes.size()),
                     " bytes), expected ", desc.digest.str(), " (", std::to_string(desc.size), " bytes)");
  }
}

}  // namespace outpost::image
