// The OCI image layout store (`oci:DIR[:TAG]`, and read-only `oci-archive:FILE[:TAG]`):
//
//   DIR/oci-layout          {"imageLayoutVersion": "1.0.0"}
//   DIR/index.json          an OCI index; an entry's org.opencontainers.image.ref.name
//                           annotation is its tag
//   DIR/blobs/sha256/<hex>  every blob, manifests included, named by its digest
//   DIR/.index.json.lock    outpost's lock file (empty; other tools ignore it)
//
// Writes: each blob through AtomicFile after its digest and size are checked; a manifest only
// when every blob it names is present; index.json replaced atomically last, read, changed and
// written under an exclusive flock on .index.json.lock, so that concurrent writers (the
// daemons, an operator's apply) keep each other's tags.
#pragma once

#include <filesystem>
#include <memory>

#include "storage/file_tree.h"
#include "storage/image_store.h"

namespace outpost::storage {

// The annotation that carries a tag in index.json.
inline constexpr const char* kRefNameAnnotation = "org.opencontainers.image.ref.name";

// A read-only layout store over `tree` (a directory or a tar). Throws Corruption naming the tree
// if it has no valid oci-layout file, Unsupported for an unknown layout version.
std::unique_ptr<ImageStore> OpenOciLayout(std::unique_ptr<FileTree> tree);

// A read-write layout store in directory `dir`, created (with oci-layout and an empty
// index.json) if it does not exist yet. Throws IOError, or Corruption for an existing directory
// that is not a layout.
std::unique_ptr<ImageStore> OpenOciLayoutForWrite(const std::filesystem::path& dir);

// True when `tree` holds an oci-layout file (used to tell an oci-archive from a docker-archive).
bool LooksLikeOciLayout(FileTree& tree);

}  // namespace outpost::storage
