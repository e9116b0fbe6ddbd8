#include "tests/support/images.h"

#include "common/digest.h"
#include "common/io.h"

namespace outpost::testing {
namespace {

std::string Descriptor(std::string_view media_type, const std::string& blob) {
  return R"({"mediaType":")" + std::string(media_type) + R"(","digest":")" + Digest::Of(blob).str() +
         R"(","size":)" + std::to_string(blob.size()) + "}";
}

}  // namespace

TestImage BuildImage(const std::vector<TestLayer>& layers, const std::string& arch, bool compressed_layers) {
  TestImage img;
  std::string diff_ids, descriptors;
  for (const TestLayer& l : layers) {
    std::string tar = l.raw_tar.empty() ? MakeTar(l.files) : l.raw_tar;
    bool gzip = l.gzip && compressed_layers;
    img.layers.push_back(gzip ? Gzip(tar, 6, l.window_bits) : tar);
    diff_ids += (diff_ids.empty() ? "\"" : ",\"") + Digest::Of(tar).str() + "\"";
    descriptors += (descriptors.empty() ? "" : ",") +
                   Descriptor(gzip ? image::media::kOciLayerGzip : image::media::kOciLayer, img.layers.back());
    img.diff_layers.push_back(std::move(tar));
  }
  img.config = R"({"architecture":")" + arch + R"(","os":"linux","rootfs":{"type":"layers","diff_ids":[)" +
               diff_ids + R"(]},"config":{}})";
  std::string manifest = R"({"schemaVersion":2,"mediaType":")" + std::string(image::media::kOciManifest) +
                         R"(","config":)" + Descriptor(image::media::kOciConfig, img.config) + R"(,"layers":[)" +
                         descriptors + "]}";
  img.manifest = image::ManifestBlob::FromBytes(manifest, image::media::kOciManifest);
  return img;
}

TestImage MakeImage(int layer_count, const std::string& arch) {
  std::vector<TestLayer> layers;
  for (int i = 0; i < layer_count; ++i) {
    std::string n = std::to_string(i);
    layers.emplace_back(Files{{"etc/layer" + n, "content of layer " + n + " " + arch},
                              {"usr/share/doc/" + n, std::string(3000 + i, static_cast<char>('a' + i % 26))}},
                        true);
  }
  return BuildImage(layers, arch);
}

void WriteImage(storage::ImageStore& store, const TestImage& img, const std::string& tag) {
  auto put = [&](const std::string& blob) {
    StringReader r(blob);
    store.WriteBlob(Digest::Of(blob), static_cast<int64_t>(blob.size()), r);
  };
  put(img.config);
  for (const std::string& layer : img.layers) put(layer);
  store.WriteManifest(img.manifest, tag);
  store.Commit();
}

}  // namespace outpost::testing
