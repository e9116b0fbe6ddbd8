// Test helpers: small generated images (tars of a few files, gzip'ed by zlib) written into
// stores, so store, inspect and copy tests need no external tool. Test code only.
#pragma once

#include <string>
#include <vector>

#include "common/digest.h"
#include "storage/image_store.h"

namespace outpost::storage::testing {

// A tar holding `files` (name, content) pairs.
std::string MakeTar(const std::vector<std::pair<std::string, std::string>>& files);
// `data` as one gzip member (zlib, level 6).
std::string Gzip(const std::string& data);

struct TestImage {
  std::vector<std::string> layers;      // the blobs as stored (gzip)
  std::vector<std::string> diff_layers; // the uncompressed tars
  std::string config;
  image::ManifestBlob manifest;
};

// An OCI image of `layer_count` gzip layers with distinct content, "linux/amd64" unless told.
TestImage MakeImage(int layer_count, const std::string& arch = "amd64");

// Writes `img` into `store` (blobs, then manifest tagged `tag`) and commits.
void WriteImage(ImageStore& store, const TestImage& img, const std::string& tag);

}  // namespace outpost::storage::testing
