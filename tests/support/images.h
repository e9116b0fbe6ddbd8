// Small generated OCI images for tests: layers are tars of a few files, stored gzip'ed by zlib
// (level 6, the encoder Python's zlib and Jib use, which the exact codec reproduces) or as
// they are, and written through a real store. Test code only.
#pragma once

#include <string>
#include <vector>

#include "image/image.h"
#include "storage/image_store.h"
#include "tests/support/tar.h"

namespace outpost::testing {

// One layer to build: a tar of `files`, or `raw_tar` as it is when that is not empty.
struct TestLayer {
  TestLayer() = default;
  TestLayer(Files f, bool gz) : files(std::move(f)), gzip(gz) {}
  Files files;
  bool gzip = true;
  std::string raw_tar;
  int window_bits = 15;  // zlib's window for a gzip layer; 12: a layer no recipe reproduces
};

// An image's blobs as a store holds them.
struct TestImage {
  std::vector<std::string> layers;       // the layer blobs as stored (gzip or tar)
  std::vector<std::string> diff_layers;  // the uncompressed tars
  std::string config;
  image::ManifestBlob manifest;
};

// An OCI image of `layers` (bottom first) for "linux/`arch`"; `compressed_layers` false stores
// every layer uncompressed (what a docker-archive holds).
TestImage BuildImage(const std::vector<TestLayer>& layers, const std::string& arch = "amd64",
                     bool compressed_layers = true);

// An OCI image of `layer_count` gzip layers with distinct content, "linux/amd64" unless told.
TestImage MakeImage(int layer_count, const std::string& arch = "amd64");

// Writes `img` into `store` (blobs, then the manifest tagged `tag`) and commits.
void WriteImage(storage::ImageStore& store, const TestImage& img, const std::string& tag);

}  // namespace outpost::testing
