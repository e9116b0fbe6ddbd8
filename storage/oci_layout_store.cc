#include "storage/oci_layout_store.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <set>

#include <nlohmann/json.hpp>

#include "common/error.h"
#include "common/file.h"

namespace outpost::storage {
namespace {

using Json = nlohmann::json;

constexpr const char* kLayoutFile = "oci-layout";
constexpr const char* kIndexFile = "index.json";
// Held (flock) across every read-modify-write of index.json, so that writers in other processes
// (the daemons, an operator's apply) do not drop each other's tags.
constexpr const char* kLockFile = ".index.json.lock";

// An exclusive flock on `dir`/kLockFile for the object's lifetime.
class LayoutLock {
 public:
  explicit LayoutLock(const fs::path& dir) {
    fs::path path = dir / kLockFile;
    fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd_ < 0) throw ErrnoError("cannot open the layout lock", path.string());
    while (::flock(fd_, LOCK_EX) != 0) {
      if (errno != EINTR) {
        int saved = errno;
        ::close(fd_);
        errno = saved;
        throw ErrnoError("cannot lock", path.string());
      }
    }
  }
  ~LayoutLock() { ::close(fd_); }
  LayoutLock(const LayoutLock&) = delete;
  LayoutLock& operator=(const LayoutLock&) = delete;

 private:
  int fd_ = -1;
};

std::string BlobPath(const Digest& d) { return "blobs/sha256/" + d.hex(); }

class OciLayoutStore : public ImageStore {
 public:
  OciLayoutStore(std::unique_ptr<FileTree> tree, fs::path write_dir)
      : tree_(std::move(tree)), write_dir_(std::move(write_dir)) {
    CheckLayoutFile();
  }

  std::string Describe() const override { return tree_->Describe(); }
  std::string DescribeBlob(const Digest& d) const override { return tree_->DescribeMember(BlobPath(d)); }

  std::vector<std::string> ListTags() override {
    std::set<std::string> tags;
    Json index = ReadIndex();
    for (const Json& entry : index["manifests"]) {
      std::string tag = TagOf(entry);
      if (!tag.empty()) tags.insert(tag);
    }
    return {tags.begin(), tags.end()};
  }

  image::ManifestBlob ReadManifest(const std::string& tag_or_digest) override {
    if (std::optional<Json> entry = FindEntry(tag_or_digest)) return ReadEntry(*entry);
    if (tag_or_digest.empty()) return FromBytes(tree_->ReadSmall(kIndexFile), "", tree_->DescribeMember(kIndexFile));
    if (Digest::IsValid(tag_or_digest)) return ReadByDigest(Digest::Parse(tag_or_digest));
    std::string known;
    for (const std::string& t : ListTags()) known += (known.empty() ? "" : ", ") + t;
    throw NotFound(Describe(), ": no tag \"", tag_or_digest, "\" (tags: ", known.empty() ? "none" : known, ")");
  }

  std::optional<image::Descriptor> Resolve(const std::string& tag_or_digest) override {
    std::optional<Json> entry = FindEntry(tag_or_digest);
    if (!entry) return std::nullopt;
    return image::Descriptor{(*entry).value("mediaType", ""), Digest::Parse((*entry)["digest"].get<std::string>()),
                             (*entry)["size"].get<int64_t>(), std::nullopt, ""};
  }

  bool HasBlob(const Digest& d) override { return tree_->Size(BlobPath(d)).has_value(); }

  std::unique_ptr<Reader> OpenBlob(const Digest& d, uint64_t offset) override {
    if (!HasBlob(d)) throw NotFound(Describe(), ": no blob ", d.str());
    return tree_->Open(BlobPath(d), offset);
  }

  void WriteBlob(const Digest& d, int64_t size, Reader& content) override {
    fs::path path = WritableDir() / BlobPath(d);
    std::string what = "blob " + d.str() + " for " + Describe();
    if (HasBlob(d)) {
      VerifyingReader check(std::make_unique<ReaderRef>(content), d, size, what);
      NullWriter sink;
      Copy(check, sink);
      return;
    }
    AtomicFile out(path);
    VerifyingReader check(std::make_unique<ReaderRef>(content), d, size, what);
    Copy(check, out);
    out.Commit();
  }

  void AdoptBlob(const Digest& d, int64_t size, const fs::path& verified) override {
    if (HasBlob(d)) return;
    fs::path path = WritableDir() / BlobPath(d);
    std::error_code ec;
    uint64_t got = fs::file_size(verified, ec);
    if (ec || got != static_cast<uint64_t>(size)) {
      throw Corruption("blob ", d.str(), " for ", Describe(), ": staged file ", verified.string(), " holds ",
                       ec ? std::string("nothing readable") : std::to_string(got) + " bytes",
                       ", not ", std::to_string(size));
    }
    SyncFile(verified);
    if (::rename(verified.c_str(), path.c_str()) != 0) {
      if (errno != EXDEV) throw ErrnoError("cannot rename into", path.string());
      ImageStore::AdoptBlob(d, size, verified);  // another filesystem: copy (and check) it
      return;
    }
    SyncDirectory(path.parent_path());
  }

  void WriteManifest(const image::ManifestBlob& manifest, const std::string& tag) override {
    fs::path dir = WritableDir();
    for (const image::Descriptor& d : image::ReferencedDescriptors(manifest)) {
      if (!HasBlob(d.digest)) {
        throw NotFound(Describe(), ": manifest ", manifest.digest.str(), " names missing blob ", d.digest.str());
      }
    }
    if (!HasBlob(manifest.digest)) WriteFileAtomic(dir / BlobPath(manifest.digest), manifest.bytes);
    LayoutLock lock(dir);
    Json index = ReadIndex();
    Json& entries = index["manifests"];
    Json entry = {{"mediaType", manifest.media_type},
                  {"digest", manifest.digest.str()},
                  {"size", manifest.bytes.size()}};
    if (!tag.empty()) entry["annotations"] = {{kRefNameAnnotation, tag}};
    Json kept = Json::array();
    for (const Json& e : entries) {
      bool same_tag = !tag.empty() && TagOf(e) == tag;
      bool same_untagged = tag.empty() && TagOf(e).empty() && e.value("digest", "") == manifest.digest.str();
      if (!same_tag && !same_untagged) kept.push_back(e);
    }
    kept.push_back(entry);
    entries = kept;
    WriteFileAtomic(dir / kIndexFile, index.dump());
  }

 private:
  void CheckLayoutFile() {
    if (!tree_->Size(kLayoutFile)) {
      throw Corruption(Describe(), ": not an OCI image layout (no oci-layout file)");
    }
    Json doc = Json::parse(tree_->ReadSmall(kLayoutFile), nullptr, false);
    if (doc.is_discarded() || !doc.is_object()) {
      throw Corruption(tree_->DescribeMember(kLayoutFile), ": malformed JSON");
    }
    std::string version = doc.value("imageLayoutVersion", "");
    if (version != "1.0.0") throw Unsupported(tree_->DescribeMember(kLayoutFile), ": layout version \"", version, "\" is not 1.0.0");
  }

  Json ReadIndex() {
    std::string what = tree_->DescribeMember(kIndexFile);
    if (!tree_->Size(kIndexFile)) throw Corruption(what, ": missing");
    Json doc = Json::parse(tree_->ReadSmall(kIndexFile), nullptr, false);
    if (doc.is_discarded() || !doc.is_object()) throw Corruption(what, ": malformed JSON");
    if (!doc.contains("manifests") || doc["manifests"].is_null()) doc["manifests"] = Json::array();  // Docker 25 writes null
    if (!doc["manifests"].is_array()) throw Corruption(what, ": \"manifests\" is not an array");
    for (const Json& e : doc["manifests"]) {
      bool has_digest = e.is_object() && e.contains("digest") && e["digest"].is_string();
      std::string digest = has_digest ? e["digest"].get<std::string>() : "";
      if (size_t colon = digest.find(':'); colon != std::string::npos && digest.substr(0, colon) != "sha256") {
        throw Unsupported(what, ": entry ", digest, " uses the ", digest.substr(0, colon),
                          " digest algorithm, which outpost does not support (only sha256)");
      }
      if (!e.is_object() || !e.contains("digest") || !e["digest"].is_string() ||
          !Digest::IsValid(e["digest"].get<std::string>()) || !e.contains("size") || !e["size"].is_number_integer()) {
        throw Corruption(what, ": malformed descriptor ", e.dump());
      }
    }
    return doc;
  }

  // The index.json entry `tag_or_digest` names; for "" the only entry, if it is a manifest.
  std::optional<Json> FindEntry(const std::string& tag_or_digest) {
    Json index = ReadIndex();
    const Json& entries = index["manifests"];
    if (tag_or_digest.empty()) {
      if (entries.size() == 1 && image::IsManifestMediaType(entries[0].value("mediaType", ""))) return entries[0];
      return std::nullopt;
    }
    bool by_digest = Digest::IsValid(tag_or_digest);
    for (const Json& entry : entries) {
      if (by_digest ? entry.value("digest", "") == tag_or_digest : TagOf(entry) == tag_or_digest) return entry;
    }
    return std::nullopt;
  }

  static std::string TagOf(const Json& entry) {
    auto a = entry.find("annotations");
    if (a == entry.end() || !a->is_object()) return "";
    auto t = a->find(kRefNameAnnotation);
    return t != a->end() && t->is_string() ? t->get<std::string>() : "";
  }

  image::ManifestBlob ReadEntry(const Json& entry) {
    image::Descriptor desc = *Resolve(entry["digest"].get<std::string>());
    const Digest& d = desc.digest;
    std::string what = DescribeBlob(d);
    if (!HasBlob(d)) throw NotFound(what, ": manifest named by index.json is missing");
    std::string bytes = tree_->ReadSmall(BlobPath(d));
    image::VerifyDescriptor(desc, bytes, what);
    return FromBytes(std::move(bytes), desc.media_type, what);
  }

  image::ManifestBlob ReadByDigest(const Digest& d) {
    std::string what = DescribeBlob(d);
    if (!HasBlob(d)) throw NotFound(Describe(), ": no manifest ", d.str());
    std::string bytes = tree_->ReadSmall(BlobPath(d));
    Digest got = Digest::Of(bytes);
    if (got != d) throw Corruption(what, ": digest is ", got.str(), ", expected ", d.str());
    return FromBytes(std::move(bytes), "", what);
  }

  // ManifestBlob::FromBytes with `what` (the file) in front of any error.
  static image::ManifestBlob FromBytes(std::string bytes, const std::string& media_type, const std::string& what) {
    try {
      return image::ManifestBlob::FromBytes(std::move(bytes), media_type);
    } catch (const Error& e) {
      throw Error(e.kind(), what + ": " + e.what());
    }
  }

  fs::path WritableDir() const {
    if (write_dir_.empty()) throw Unsupported(Describe(), ": opened read only");
    return write_dir_;
  }

  std::unique_ptr<FileTree> tree_;
  fs::path write_dir_;
};

}  // namespace

bool LooksLikeOciLayout(FileTree& tree) { return tree.Size(kLayoutFile).has_value(); }

std::unique_ptr<ImageStore> OpenOciLayout(std::unique_ptr<FileTree> tree) {
  return std::make_unique<OciLayoutStore>(std::move(tree), fs::path());
}

std::unique_ptr<ImageStore> OpenOciLayoutForWrite(const fs::path& dir) {
  std::error_code ec;
  fs::create_directories(dir / "blobs" / "sha256", ec);
  if (ec) throw IOError("cannot create ", dir.string(), ": ", ec.message());
  LayoutLock lock(dir);
  if (!fs::exists(dir / kLayoutFile, ec)) WriteFileAtomic(dir / kLayoutFile, R"({"imageLayoutVersion": "1.0.0"})");
  if (!fs::exists(dir / kIndexFile, ec)) WriteFileAtomic(dir / kIndexFile, R"({"schemaVersion":2,"manifests":[]})");
  return std::make_unique<OciLayoutStore>(OpenDirectoryTree(dir), dir);
}

}  // namespace outpost::storage
