// The docker://HOST[:PORT]/REPO store: an ImageStore over the OCI distribution API.
//
// Reads verify what they can (manifest bytes against the digest asked for and the registry's
// Docker-Content-Digest); blob downloads resume with Range after a broken connection. Writes
// follow the distribution protocol: HEAD first, a cross-repository mount when another
// repository of the same registry is known to hold the blob, else POST + chunked PATCH + PUT
// with the digest; a broken upload continues from the offset the registry reports. The
// registry itself refuses a manifest whose blobs are missing, and a tag is set by the manifest
// PUT that names it, so tags appear last. docs/registry.md describes retries, resume and auth.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "registry/client.h"
#include "storage/image_store.h"

namespace outpost::registry {

// What a store sent and how often it had to recover, for tests and operators.
struct TransferStats {
  uint64_t upload_bytes_sent = 0;  // blob bytes put into PATCH bodies, every attempt counted
  uint64_t upload_resumes = 0;     // uploads continued at the registry's offset after a failure
  uint64_t download_resumes = 0;   // blob downloads reopened with Range after a failure
  uint64_t blobs_mounted = 0;      // blobs linked from another repository instead of uploaded
};

// Which repositories of which registry are known to hold a blob: the candidates for a
// cross-repository mount. Shared by the stores one RegistryStoreFactory opens, since the source
// and destination of a copy are separate stores. Thread-safe.
class BlobSources {
 public:
  // Records that `repository` on `host` holds `digest`.
  void Add(const std::string& host, const std::string& repository, const Digest& digest);
  // A repository of `host` other than `not_this` known to hold `digest`, or "".
  std::string Find(const std::string& host, const std::string& not_this, const Digest& digest);

 private:
  std::mutex mu_;
  std::map<std::pair<std::string, Digest>, std::set<std::string>> known_;
};

class RegistryStore : public storage::ImageStore {
 public:
  // A store for `repository` on the registry `client` talks to. `sources` is read and extended
  // (shared with the other stores of the same factory). Nothing is sent until the first call.
  RegistryStore(std::string repository, std::unique_ptr<RegistryClient> client, std::shared_ptr<BlobSources> sources);
  ~RegistryStore() override;

  std::string Describe() const override;
  std::vector<std::string> ListTags() override;
  image::ManifestBlob ReadManifest(const std::string& tag_or_digest) override;
  // True when the repository holds the blob. When it does not, but another repository of this
  // registry that this process read from does, the blob is mounted from there (a
  // cross-repository mount: no bytes move) and the answer is true.
  bool HasBlob(const Digest& digest) override;
  // Streams the blob from `offset`, resuming with Range when the connection breaks (at most
  // ClientOptions::max_attempts breaks in a row without resume_progress_bytes between them). The
  // caller verifies the digest and bounds the length (VerifyingReader reads at most size + 1).
  std::unique_ptr<Reader> OpenBlob(const Digest& digest, uint64_t offset = 0) override;
  // Uploads in chunks of ClientOptions::chunk_size; commits (PUT ?digest=) only after the
  // bytes read matched `size` and `digest`; on any failure cancels the upload session so the
  // repository is as it was.
  void WriteBlob(const Digest& digest, int64_t size, Reader& content) override;
  // PUTs the manifest by tag (or by digest when `tag` is empty) and checks the digest the
  // registry computed.
  void WriteManifest(const image::ManifestBlob& manifest, const std::string& tag) override;

  // The registry's repositories (GET /v2/_catalog, following Link pagination).
  std::vector<std::string> ListRepositories();

  const TransferStats& stats() const { return stats_; }

 private:
  std::string Scope(bool push) const;
  Error Fail(const Reply& reply, const std::string& action);
  bool HeadBlob(const Digest& digest);
  bool TryMount(const Digest& digest);
  std::vector<std::string> ListPaged(std::string target, const std::string& key,
                                     const std::vector<std::string>& scopes);
  std::string StartUpload();
  std::string SendChunk(std::string location, const uint8_t* data, size_t n, uint64_t start);
  std::pair<uint64_t, std::string> UploadOffset(const std::string& location);
  std::string ResolveLocation(const Reply& reply, const std::string& location, const std::string& action) const;
  void FinishUpload(const std::string& location, const Digest& digest);
  void CancelUpload(const std::string& location) noexcept;

  std::string host_;
  std::string repository_;
  std::unique_ptr<RegistryClient> client_;
  std::shared_ptr<BlobSources> sources_;
  TransferStats stats_;
};

}  // namespace outpost::registry
