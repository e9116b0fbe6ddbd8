// Image stores: one interface over every place an image can live.
//
//   oci:DIR[:TAG]                  an OCI image layout (oci_layout_store.h)
//   docker-archive:FILE[:TAG]      what `docker save` writes / `docker load` reads
//                                  (docker_archive_store.h)
//   oci-archive:FILE[:TAG]         a tar of an OCI image layout (read only)
//   docker://HOST[:PORT]/REPO[:TAG|@DIGEST]   a registry (registry/store_factory.h)
//
// Stores are opened through a StoreFactory that each main builds and passes to whatever opens
// stores (image loading, diff, apply, the CLI commands): storage/ itself knows no registry.
//
// Write discipline, for every store: a blob becomes visible only after its bytes are complete
// and their sha256 and size match what the caller said (temp + fsync + rename); manifests are
// written after every blob they name; tags last. A failed write leaves the store as it was.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/digest.h"
#include "common/io.h"
#include "image/image.h"

namespace outpost::storage {

// A parsed image reference.
struct Reference {
  enum class Transport { kOci, kDockerArchive, kDocker, kOciArchive };
  Transport transport = Transport::kOci;
  std::string location;         // DIR, FILE, or HOST[:PORT]/REPO
  std::string tag;              // empty when not given
  std::optional<Digest> digest; // docker://...@sha256:..., oci:DIR@sha256:...
  std::string text;             // as the user wrote it, for messages

  // Parses the forms above. Throws InvalidArgument with the accepted forms for anything else.
  // docker://: the first path component is the host only if it contains '.' or ':' or is
  // "localhost" (Docker's rule); otherwise the host is docker.io and a one-component repository
  // gets the "library/" prefix. The tag defaults to "latest" when neither tag nor digest is given.
  static Reference Parse(const std::string& text);
  // What ReadManifest should be asked for: the digest if one was given, else the tag (may be
  // empty for stores that hold a single image).
  std::string tag_or_digest() const { return digest ? digest->str() : tag; }
  // The registry host (and port) of a docker:// reference.
  std::string host() const;
  // The repository path of a docker:// reference.
  std::string repository() const;
};

class ImageStore {
 public:
  virtual ~ImageStore() = default;

  // The reference this store was opened from, for messages.
  virtual std::string Describe() const = 0;

  // Where blob `digest` is kept, for messages ("DIR/blobs/sha256/<hex>", "FILE:member").
  virtual std::string DescribeBlob(const Digest& digest) const { return Describe() + " blob " + digest.str(); }

  // The tags the store holds, sorted.
  virtual std::vector<std::string> ListTags() = 0;

  // Reads the manifest or index named by `tag_or_digest` (a tag, or "sha256:..."). Verifies the
  // bytes against the digest when one is given or known. Throws NotFound naming the store and
  // the tag when there is none.
  virtual image::ManifestBlob ReadManifest(const std::string& tag_or_digest) = 0;

  // The descriptor `tag_or_digest` resolves to, without reading the manifest, when the store
  // keeps one (an OCI layout's index.json entry); nullopt otherwise. Lets inspect report a
  // manifest that does not match its descriptor and still check the blobs it names.
  virtual std::optional<image::Descriptor> Resolve(const std::string& tag_or_digest) {
    (void)tag_or_digest;
    return std::nullopt;
  }

  // True when the store holds the blob.
  virtual bool HasBlob(const Digest& digest) = 0;

  // Opens a blob for streaming, from `offset`. The reader returns the stored bytes; callers that
  // need them verified hash what they read (VerifyingReader does it). Throws NotFound.
  virtual std::unique_ptr<Reader> OpenBlob(const Digest& digest, uint64_t offset = 0) = 0;

  // Stores a blob: reads `content` to its end, and only if it is exactly `size` bytes with sha256
  // `digest` makes it visible; otherwise throws Corruption and leaves the store as it was. A blob
  // already present is not rewritten (content is still drained and checked).
  virtual void WriteBlob(const Digest& digest, int64_t size, Reader& content) = 0;

  // Stores a blob from the file `verified`, which the caller has already checked holds exactly
  // `size` bytes with sha256 `digest` (it wrote it through a hash) and which nobody else writes.
  // A store that can take the file over without reading it (an OCI layout on the same
  // filesystem: fsync and rename) does so, and the file is gone afterwards. Otherwise, and by
  // default, it is copied through WriteBlob, which checks it once more. Throws like WriteBlob.
  virtual void AdoptBlob(const Digest& digest, int64_t size, const std::filesystem::path& verified);

  // Stores a manifest or index (every blob it names must already be written) and, when `tag` is
  // not empty, points `tag` at it.
  virtual void WriteManifest(const image::ManifestBlob& manifest, const std::string& tag) = 0;

  // Whether compressed layer blobs can be stored as they are. A docker-archive holds
  // uncompressed layers only: copying into one decompresses layers and rewrites the manifest
  // (the config, and so the image ID, stays identical).
  virtual bool HoldsCompressedLayers() const { return true; }

  // True when the store keeps no manifests of its own and makes them up from other metadata (a
  // docker-archive's manifest.json, presented as skopeo does). Copying out of such a store into
  // one that keeps compressed layers writes an OCI manifest instead, naming the same config and
  // layer bytes with accurate media types.
  virtual bool SynthesizesManifests() const { return false; }

  // Makes a batch of writes durable and visible. Stores that write a single file
  // (docker-archive) assemble it here; nothing of the batch is visible before. Others: no-op.
  virtual void Commit() {}
};

// Opens the stores that references name. Implementations may keep state across the stores they
// open for as long as they live (a registry factory keeps one session per registry, with its
// credentials and tokens, and remembers which repositories hold which blobs so that a copy
// between two repositories mounts instead of uploading): build one per process or long-lived
// session and pass it down. Open may be called from several threads at once. A store stays
// usable after its factory is destroyed (it only stops sharing what the factory remembers).
class StoreFactory {
 public:
  virtual ~StoreFactory() = default;

  // Opens the store `ref` names. `for_write` creates an OCI layout directory or prepares a new
  // docker-archive file. Throws Unsupported for a transport this factory does not open,
  // NotFound / InvalidArgument for a reference that names nothing usable, and what opening the
  // store throws. Nothing is sent to a registry before the store's first call.
  virtual std::unique_ptr<ImageStore> Open(const Reference& ref, bool for_write) = 0;
};

// The stores that live in files: oci:, oci-archive: and docker-archive:. A docker:// reference
// is Unsupported (registry::RegistryStoreFactory opens those). Keeps no state.
class FileStoreFactory : public StoreFactory {
 public:
  std::unique_ptr<ImageStore> Open(const Reference& ref, bool for_write) override;
};

// Opens `ref` with `stores`, or with a FileStoreFactory when `stores` is null (for callers that
// only ever name files, such as tests). Throws what StoreFactory::Open throws.
std::unique_ptr<ImageStore> OpenStore(const Reference& ref, StoreFactory* stores, bool for_write);

// Reads a blob that must be `size` bytes long, without hashing it: never asks `inner` for more
// than size + 1 bytes, and throws Corruption naming `what` as soon as a byte beyond `size`
// arrives (so an endless or overlong source costs at most size + 1 bytes), or when the stream
// ends short of `size`.
class SizedReader : public Reader {
 public:
  SizedReader(std::unique_ptr<Reader> inner, int64_t size, std::string what);
  size_t Read(uint8_t* buf, size_t n) override;
  // The bytes returned so far.
  uint64_t count() const { return count_; }

 private:
  std::unique_ptr<Reader> inner_;
  uint64_t size_;
  std::string what_;
  uint64_t count_ = 0;
};

// Reads a blob through a digest and size check: throws Corruption naming `what` and both
// digests if the bytes were not exactly `size` bytes with sha256 `digest`. Like SizedReader it
// reads at most size + 1 bytes of `inner` and fails at the first byte too many, so an
// untrusted, possibly endless source is cut off there; the digest is checked at the end.
class VerifyingReader : public Reader {
 public:
  VerifyingReader(std::unique_ptr<Reader> inner, Digest digest, int64_t size, std::string what);
  size_t Read(uint8_t* buf, size_t n) override;

 private:
  std::unique_ptr<Reader> inner_;
  HashingReader hashing_;
  Digest digest_;
  int64_t size_;
  std::string what_;
  bool checked_ = false;
};

}  // namespace outpost::storage
