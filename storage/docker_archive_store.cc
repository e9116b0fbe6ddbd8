#include "storage/docker_archive_store.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <set>

#include <nlohmann/json.hpp>

#include "common/error.h"
#include "common/file.h"
#include "compress/decompress.h"
#include "storage/file_tree.h"
#include "storage/oci_layout_store.h"
#include "tar/tar_writer.h"

namespace outpost::storage {
namespace {

using Json = nlohmann::json;

constexpr const char* kManifestFile = "manifest.json";

// Where a blob of the archive lives and how to present it.
struct Member {
  std::string path;
  image::Compression stored = image::Compression::kNone;  // a layer member stored compressed
};

struct ArchiveImage {
  std::vector<std::string> repo_tags;
  image::ManifestBlob manifest;
};

// The Docker v2 schema 2 manifest skopeo synthesizes for an archive entry, in Go's field order.
std::string SynthesizeManifest(const image::Config& config, const std::vector<uint64_t>& layer_sizes) {
  std::string out = R"({"schemaVersion":2,"mediaType":")" + std::string(image::media::kDockerManifest) +
                    R"(","config":{"mediaType":")" + std::string(image::media::kDockerConfig) +
                    R"(","size":)" + std::to_string(config.bytes.size()) + R"(,"digest":")" +
                    config.digest.str() + R"("},"layers":[)";
  for (size_t i = 0; i < layer_sizes.size(); ++i) {
    out += (i ? "," : "") + std::string(R"({"mediaType":")") + std::string(image::media::kDockerLayerGzip) +
           R"(","size":)" + std::to_string(layer_sizes[i]) + R"(,"digest":")" + config.diff_ids[i].str() + R"("})";
  }
  return out + "]}";
}

class DockerArchiveReader : public ImageStore {
 public:
  DockerArchiveReader(std::unique_ptr<FileTree> tree) : tree_(std::move(tree)) { Load(); }

  std::string Describe() const override { return tree_->Describe(); }
  bool SynthesizesManifests() const override { return true; }
  std::string DescribeBlob(const Digest& d) const override {
    auto it = members_.find(d);
    return it == members_.end() ? Describe() + " blob " + d.str() : tree_->DescribeMember(it->second.path);
  }

  std::vector<std::string> ListTags() override {
    std::set<std::string> tags;
    for (const ArchiveImage& img : images_) tags.insert(img.repo_tags.begin(), img.repo_tags.end());
    return {tags.begin(), tags.end()};
  }

  image::ManifestBlob ReadManifest(const std::string& sel) override {
    if (sel.empty()) {
      if (images_.size() == 1) return images_[0].manifest;
      throw InvalidArgument(Describe(), " holds ", std::to_string(images_.size()),
                            " images: name one as docker-archive:FILE:TAG or :@N");
    }
    if (sel[0] == '@') {
      size_t n = std::strtoul(sel.c_str() + 1, nullptr, 10);
      if (n < images_.size() && sel.find_first_not_of("0123456789", 1) == std::string::npos) {
        return images_[n].manifest;
      }
      throw NotFound(Describe(), ": no image ", sel, " (it holds ", std::to_string(images_.size()), ")");
    }
    for (const ArchiveImage& img : images_) {
      bool hit = img.manifest.digest.str() == sel ||
                 std::find(img.repo_tags.begin(), img.repo_tags.end(), sel) != img.repo_tags.end();
      if (hit) return img.manifest;
    }
    throw NotFound(Describe(), ": no image tagged \"", sel, "\"");
  }

  bool HasBlob(const Digest& d) override { return members_.count(d) > 0; }

  std::unique_ptr<Reader> OpenBlob(const Digest& d, uint64_t offset) override {
    auto it = members_.find(d);
    if (it == members_.end()) throw NotFound(Describe(), ": no blob ", d.str());
    const Member& m = it->second;
    if (m.stored == image::Compression::kNone) return tree_->Open(m.path, offset);
    auto plain = compress::OpenDecompressed(tree_->Open(m.path), m.stored, tree_->DescribeMember(m.path));
    SkipBytes(*plain, offset);
    return plain;
  }

  void WriteBlob(const Digest&, int64_t, Reader&) override { throw ReadOnly(); }
  void WriteManifest(const image::ManifestBlob&, const std::string&) override { throw ReadOnly(); }

 private:
  Error ReadOnly() const { return Unsupported(Describe(), ": opened for reading"); }

  static void SkipBytes(Reader& r, uint64_t n) {
    NullWriter sink;
    LimitedReader head(r, n);
    if (Copy(head, sink) != n) throw InvalidArgument("offset ", std::to_string(n), " is past the end of the blob");
  }

  void Load() {
    std::string what = tree_->DescribeMember(kManifestFile);
    Json doc = Json::parse(tree_->ReadSmall(kManifestFile), nullptr, false);
    if (doc.is_discarded()) throw Corruption(what, ": malformed JSON");
    if (!doc.is_array()) throw Corruption(what, ": not a JSON array");
    for (size_t i = 0; i < doc.size(); ++i) LoadEntry(doc[i], what + " entry " + std::to_string(i));
    if (images_.empty()) throw Corruption(what, ": no images");
  }

  // entry[key], matching the key's case loosely as Docker's (Go's) JSON decoder does; Jib writes
  // "config", "layers", "repoTags".
  static const Json* Field(const Json& entry, std::string_view key) {
    for (auto it = entry.begin(); it != entry.end(); ++it) {
      const std::string& k = it.key();
      if (k.size() == key.size() && std::equal(k.begin(), k.end(), key.begin(), [](char a, char b) {
            return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
          })) {
        return &*it;
      }
    }
    return nullptr;
  }

  void LoadEntry(const Json& entry, const std::string& what) {
    const Json* config_field = entry.is_object() ? Field(entry, "Config") : nullptr;
    const Json* layers_field = entry.is_object() ? Field(entry, "Layers") : nullptr;
    if (!config_field || !config_field->is_string() || !layers_field || !layers_field->is_array()) {
      throw Corruption(what, ": needs \"Config\" and \"Layers\"");
    }
    std::string config_path = config_field->get<std::string>();
    image::Config config = ParseConfig(config_path);
    const Json& layers = *layers_field;
    if (layers.size() != config.diff_ids.size()) {
      throw Corruption(what, ": ", std::to_string(layers.size()), " layers but the config lists ",
                       std::to_string(config.diff_ids.size()), " diff_ids");
    }
    members_[config.digest] = Member{config_path};
    std::vector<uint64_t> sizes;
    for (size_t i = 0; i < layers.size(); ++i) {
      if (!layers[i].is_string()) throw Corruption(what, ": layer ", std::to_string(i), " is not a path");
      sizes.push_back(AddLayer(layers[i].get<std::string>(), config.diff_ids[i]));
    }
    ArchiveImage img;
    if (const Json* tags = Field(entry, "RepoTags"); tags && tags->is_array()) {
      for (const Json& t : *tags) {
        if (t.is_string()) img.repo_tags.push_back(t.get<std::string>());
      }
    }
    img.manifest = image::ManifestBlob::FromBytes(SynthesizeManifest(config, sizes), image::media::kDockerManifest);
    images_.push_back(std::move(img));
  }

  image::Config ParseConfig(const std::string& path) {
    if (!tree_->Size(path)) throw Corruption(tree_->DescribeMember(path), ": config named by manifest.json is missing");
    try {
      return image::Config::Parse(tree_->ReadSmall(path));
    } catch (const Error& e) {
      throw Error(e.kind(), tree_->DescribeMember(path) + ": " + e.what());
    }
  }

  // Records layer member `path` as blob `diff_id`; returns the blob's (uncompressed) size.
  uint64_t AddLayer(const std::string& path, const Digest& diff_id) {
    std::optional<uint64_t> size = tree_->Size(path);
    if (!size) throw Corruption(tree_->DescribeMember(path), ": layer named by manifest.json is missing");
    uint8_t head[4] = {};
    size_t got = ReadUpTo(*tree_->Open(path), head, sizeof(head));
    Member m{path, image::SniffCompression(std::string_view(reinterpret_cast<char*>(head), got))};
    members_[diff_id] = m;
    if (m.stored == image::Compression::kNone) return *size;
    NullWriter sink;
    return Copy(*OpenBlob(diff_id, 0), sink);
  }

  std::unique_ptr<FileTree> tree_;
  std::vector<ArchiveImage> images_;
  std::map<Digest, Member> members_;
};

// Normalizes a tag for RepoTags: "name" becomes "name:latest".
std::string RepoTag(const std::string& tag) {
  size_t slash = tag.rfind('/');
  return tag.find(':', slash == std::string::npos ? 0 : slash) == std::string::npos ? tag + ":latest" : tag;
}

class DockerArchiveWriter : public ImageStore {
 public:
  explicit DockerArchiveWriter(const fs::path& file)
      : file_(file), staging_(file.parent_path().empty() ? fs::path(".") : file.parent_path(), ".outpost-staging-") {}

  std::string Describe() const override { return file_.string(); }
  bool HoldsCompressedLayers() const override { return false; }

  std::vector<std::string> ListTags() override {
    std::set<std::string> tags;
    for (const Staged& s : images_) {
      if (!s.tag.empty()) tags.insert(RepoTag(s.tag));
    }
    return {tags.begin(), tags.end()};
  }

  image::ManifestBlob ReadManifest(const std::string& sel) override {
    for (const Staged& s : images_) {
      if (sel.empty() || RepoTag(s.tag) == RepoTag(sel) || s.manifest.digest.str() == sel) return s.manifest;
    }
    throw NotFound(Describe(), ": no image \"", sel, "\" written yet");
  }

  bool HasBlob(const Digest& d) override { return blobs_.count(d) > 0; }

  std::unique_ptr<Reader> OpenBlob(const Digest& d, uint64_t offset) override {
    if (!HasBlob(d)) throw NotFound(Describe(), ": no blob ", d.str());
    return std::make_unique<FileReader>(StagedPath(d), offset);
  }

  void WriteBlob(const Digest& d, int64_t size, Reader& content) override {
    VerifyingReader check(std::make_unique<ReaderRef>(content), d, size, "blob " + d.str() + " for " + Describe());
    if (HasBlob(d)) {
      NullWriter sink;
      Copy(check, sink);
      return;
    }
    AtomicFile out(StagedPath(d));
    Copy(check, out);
    out.Commit();
    blobs_[d] = static_cast<uint64_t>(size);
  }

  void WriteManifest(const image::ManifestBlob& manifest, const std::string& tag) override {
    if (manifest.is_index()) {
      throw Unsupported(Describe(), ": a docker-archive holds single-platform images; choose one with --platform");
    }
    image::Manifest m = image::Manifest::Parse(manifest);
    if (!m.is_image()) throw Unsupported(Describe(), ": a docker-archive cannot hold artifact ", manifest.digest.str());
    for (const image::Descriptor& layer : m.layers) {
      if (image::LayerCompression(layer.media_type) != image::Compression::kNone) {
        throw Unsupported(Describe(), ": layer ", layer.digest.str(), " is ", layer.media_type,
                          "; a docker-archive holds uncompressed layers");
      }
    }
    for (const image::Descriptor& d : image::ReferencedDescriptors(manifest)) {
      if (!HasBlob(d.digest)) throw NotFound(Describe(), ": manifest names missing blob ", d.digest.str());
    }
    if (!HasBlob(manifest.digest)) {
      WriteFileAtomic(StagedPath(manifest.digest), manifest.bytes);
      blobs_[manifest.digest] = manifest.bytes.size();
    }
    images_.push_back(Staged{manifest, m, tag});
  }

  void Commit() override {
    if (images_.empty()) throw InvalidArgument(Describe(), ": nothing to write");
    AtomicFile out(file_);
    tar::Writer tar(out);
    tar.AddDirectory("blobs");
    tar.AddDirectory("blobs/sha256");
    for (const auto& [digest, size] : blobs_) {
      FileReader content(StagedPath(digest));
      tar.AddFile("blobs/sha256/" + digest.hex(), size, content);
    }
    tar.AddFile("index.json", IndexJson());
    tar.AddFile("manifest.json", ManifestJson());
    tar.AddFile("oci-layout", R"({"imageLayoutVersion": "1.0.0"})");
    tar.Finish();
    out.Commit();
  }

 private:
  struct Staged {
    image::ManifestBlob manifest;
    image::Manifest parsed;
    std::string tag;
  };

  fs::path StagedPath(const Digest& d) const { return staging_.path() / d.hex(); }

  std::string ManifestJson() const {
    Json out = Json::array();
    for (const Staged& s : images_) {
      Json layers = Json::array();
      for (const image::Descriptor& l : s.parsed.layers) layers.push_back("blobs/sha256/" + l.digest.hex());
      Json tags = s.tag.empty() ? Json::array() : Json::array({RepoTag(s.tag)});
      out.push_back({{"Config", "blobs/sha256/" + s.parsed.config.digest.hex()}, {"RepoTags", tags}, {"Layers", layers}});
    }
    return out.dump();
  }

  std::string IndexJson() const {
    Json manifests = Json::array();
    for (const Staged& s : images_) {
      Json entry = {{"mediaType", s.manifest.media_type},
                    {"digest", s.manifest.digest.str()},
                    {"size", s.manifest.bytes.size()}};
      if (!s.tag.empty()) {
        std::string repo_tag = RepoTag(s.tag);
        entry["annotations"] = {{"io.containerd.image.name", repo_tag},
                                {kRefNameAnnotation, repo_tag.substr(repo_tag.rfind(':') + 1)}};
      }
      manifests.push_back(entry);
    }
    Json index = {{"schemaVersion", 2}, {"mediaType", image::media::kOciIndex}, {"manifests", manifests}};
    return index.dump();
  }

  fs::path file_;
  TempDir staging_;
  std::map<Digest, uint64_t> blobs_;
  std::vector<Staged> images_;
};

}  // namespace

std::unique_ptr<ImageStore> OpenDockerArchive(const fs::path& file) {
  std::unique_ptr<FileTree> tree = OpenTarTree(file);
  if (tree->Size(kManifestFile)) return std::make_unique<DockerArchiveReader>(std::move(tree));
  if (LooksLikeOciLayout(*tree)) return OpenOciLayout(std::move(tree));
  throw Corruption(file.string(), ": not a docker-archive (no manifest.json or oci-layout inside)");
}

std::unique_ptr<ImageStore> OpenDockerArchiveForWrite(const fs::path& file) {
  return std::make_unique<DockerArchiveWriter>(file);
}

}  // namespace outpost::storage
