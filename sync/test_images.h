// Test helper (tests only): writes images built by tests/support/images.h through the store a
// reference names (an OCI layout or a docker-archive), as the engine's callers would find them.
#pragma once

#include <string>
#include <vector>

#include "common/digest.h"
#include "storage/image_store.h"
#include "tests/support/images.h"

namespace outpost::testing {

// Writes an image of `layers` (bottom first) into the store `ref` names (created if needed),
// tagged with the reference's tag; a docker-archive gets every layer uncompressed. Returns the
// manifest digest.
inline Digest WriteImage(const std::string& ref, const std::vector<TestLayer>& layers) {
  auto store = storage::OpenStore(storage::Reference::Parse(ref), {}, true);
  TestImage img = BuildImage(layers, "amd64", store->HoldsCompressedLayers());
  WriteImage(*store, img, storage::Reference::Parse(ref).tag);
  return img.manifest.digest;
}

}  // namespace outpost::testing
