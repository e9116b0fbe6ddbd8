// Image block-signature files: what the far side sends the hub when the hub no longer holds the
// base (`outpost signature REF -o SIG`, then `outpost diff --from-signature SIG`). Per layer of the
// image: its blob digest, diffID and size, and the delta engine's block signature of its tar
// (docs/layer-signature-format.md). File layout in docs/bundle-format.md ("Image block-signature
// files").
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "common/digest.h"
#include "delta/signature.h"
#include "storage/image_store.h"

namespace outpost::sync {

// The version of the file format Save writes and Load reads.
inline constexpr uint32_t kImageSignatureVersion = 1;

struct LayerBlockSignature {
  Digest digest;   // the blob as the far side's store holds it
  Digest diff_id;
  uint64_t size = 0;
  std::string media_type;
  delta::BlockSignature signature;
};

struct ImageBlockSignature {
  std::string reference;
  std::vector<LayerBlockSignature> layers;

  // Writes the signature file atomically. Throws IOError.
  void Save(const std::filesystem::path& path) const;
  // Throws NotFound, Corruption, Unsupported (newer version).
  static ImageBlockSignature Load(const std::filesystem::path& path);
};

// Signs every layer of `ref`, opened with `stores` (nullptr: file stores only), spooling each
// tar to `scratch`. Throws what the store throws.
ImageBlockSignature ComputeImageBlockSignature(const storage::Reference& ref,
                                               storage::StoreFactory* stores,
                                               const std::filesystem::path& scratch);

}  // namespace outpost::sync
