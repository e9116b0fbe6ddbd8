// Copying images between stores (`outpost copy`), keeping every digest the destination can
// hold. Into a store that holds compressed layers (oci, a registry) blobs and manifests are
// copied byte for byte, a whole index with all its platforms included. Into a docker-archive
// (uncompressed layers only) each layer is decompressed, its digest checked against the
// config's diff_id, and the manifest rewritten to name the uncompressed layers; the config, and
// so the image ID, stays identical.
#pragma once

#include <functional>
#include <optional>
#include <string>

#include "image/image.h"
#include "storage/image_store.h"

namespace outpost::storage {

struct CopyOptions {
  std::optional<image::Platform> platform;       // copy only this platform's image of an index
  std::function<void(const std::string&)> progress;  // one line per blob; may be empty
  std::function<void(const std::string&)> notice;    // what the user must know; may be empty
};

struct CopyResult {
  Digest source_digest;       // the manifest or index read from the source
  Digest destination_digest;  // what was written (differs only when the manifest was rewritten)
  bool rewritten = false;     // layers were decompressed and the manifest rewritten
};

// Copies `selector` (tag or digest; empty for the only image) of `src` into `dst`, tagging it
// `dst_tag` there, then calls dst.Commit(). Every blob is verified while it streams; a mismatch
// throws Corruption and nothing is tagged or committed. Throws Unsupported when the destination
// cannot hold the image (an index into a docker-archive without a platform).
CopyResult CopyImage(ImageStore& src, const std::string& selector, ImageStore& dst, const std::string& dst_tag,
                     const CopyOptions& options);

}  // namespace outpost::storage
