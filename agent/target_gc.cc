#include "agent/target_gc.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <set>

#include "common/digest.h"
#include "common/error.h"
#include "common/file.h"
#include "image/image.h"
#include "registry/auth.h"
#include "registry/client.h"
#include "storage/oci_layout_store.h"

namespace outpost::agent {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;

// The layout's index.json lock, as storage/oci_layout_store.cc takes it for its writes.
class IndexLock {
 public:
  explicit IndexLock(const fs::path& dir) : fd_(::open((dir / ".index.json.lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644)) {
    if (fd_ < 0) throw ErrnoError("cannot open the layout lock", (dir / ".index.json.lock").string());
    while (::flock(fd_, LOCK_EX) != 0) {
      if (errno != EINTR) {
        Error failed = ErrnoError("cannot lock", (dir / ".index.json.lock").string());
        ::close(fd_);
        throw failed;
      }
    }
  }
  ~IndexLock() { ::close(fd_); }
  IndexLock(const IndexLock&) = delete;
  IndexLock& operator=(const IndexLock&) = delete;

 private:
  int fd_;
};

fs::path BlobPath(const fs::path& dir, const Digest& digest) { return dir / "blobs" / "sha256" / digest.hex(); }

// Adds `digest` and everything it names (an index's manifests, a manifest's config and layers)
// to `reached`. Throws NotFound / Corruption for a manifest or index that cannot be read.
void Reach(const fs::path& dir, const Digest& digest, const std::string& media_type, std::set<Digest>& reached) {
  if (!reached.insert(digest).second || !image::IsManifestMediaType(media_type)) return;
  const fs::path path = BlobPath(dir, digest);
  if (!fs::exists(path)) throw NotFound("layout ", dir.string(), ": manifest ", digest.str(), " is missing");
  image::ManifestBlob blob = image::ManifestBlob::FromBytes(ReadFileToString(path), media_type);
  if (blob.digest != digest) throw Corruption("layout ", dir.string(), ": blob ", digest.str(), " does not hash to its name");
  for (const image::Descriptor& d : image::ReferencedDescriptors(blob)) Reach(dir, d.digest, d.media_type, reached);
}

bool Names(const Json& entry, const TaggedManifest& image) {
  const auto annotations = entry.find("annotations");
  if (annotations == entry.end() || !annotations->is_object()) return false;
  const auto name = annotations->find(storage::kRefNameAnnotation);
  return name != annotations->end() && *name == image.tag && entry.value("digest", "") == image.manifest;
}

// The index entry's digest and media type, reached into `reached`.
void ReachEntry(const fs::path& dir, const Json& entry, std::set<Digest>& reached) {
  Reach(dir, Digest::Parse(entry.at("digest").get<std::string>()), entry.at("mediaType").get<std::string>(), reached);
}

}  // namespace

std::vector<TargetRemoval> RemoveFromLayout(const fs::path& dir, const std::vector<TaggedManifest>& images) {
  IndexLock lock(dir);
  const fs::path index_path = dir / "index.json";
  Json index;
  try {
    index = Json::parse(ReadFileToString(index_path));
  } catch (const Json::exception& e) {
    throw Corruption("layout ", dir.string(), ": index.json is not JSON: ", e.what());
  }
  std::vector<TargetRemoval> results(images.size(), TargetRemoval::kGone);
  Json kept = Json::array();
  std::set<Digest> removed_reach, kept_reach;
  try {
    for (const Json& entry : index.at("manifests")) {
      bool removed = false;
      for (size_t i = 0; i < images.size(); ++i) {
        if (!Names(entry, images[i])) continue;
        results[i] = TargetRemoval::kRemoved;
        removed = true;
      }
      if (removed) {
        ReachEntry(dir, entry, removed_reach);
      } else {
        ReachEntry(dir, entry, kept_reach);
        kept.push_back(entry);
      }
    }
  } catch (const Json::exception& e) {
    throw Corruption("layout ", dir.string(), ": index.json: ", e.what());
  }
  if (kept.size() == index["manifests"].size()) return results;
  index["manifests"] = std::move(kept);
  WriteFileAtomic(index_path, index.dump());
  for (const Digest& d : removed_reach) {
    if (!kept_reach.contains(d)) fs::remove(BlobPath(dir, d));
  }
  SyncDirectory(dir / "blobs" / "sha256");
  return results;
}

TargetRemoval DeleteFromRegistry(const std::string& host, const std::string& repository, const std::string& manifest) {
  registry::RegistryClient client(host, registry::AccessOptions{}, registry::ClientOptions{});
  const std::string target = "/v2/" + repository + "/manifests/" + manifest;
  registry::Reply reply = client.Do({"DELETE", target, {}, {}, {"repository:" + repository + ":delete"}});
  const int status = reply.status();
  if (status == 202 || status == 200 || status == 404) {
    reply.connection->DiscardBody();
    return status == 404 ? TargetRemoval::kGone : TargetRemoval::kRemoved;
  }
  std::string body = reply.connection->ReadBodyString();
  if (status == 405 || status == 403 || status == 401) return TargetRemoval::kRefused;
  throw registry::RegistryError(host, repository, "DELETE manifest " + manifest, status, body);
}

}  // namespace outpost::agent
