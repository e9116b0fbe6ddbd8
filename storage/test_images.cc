#include "storage/test_images.h"

#include <zlib.h>

#include <stdexcept>

#include "common/io.h"
#include "tar/tar_writer.h"

namespace outpost::storage::testing {

std::string MakeTar(const std::vector<std::pair<std::string, std::string>>& files) {
  StringWriter out;
  tar::Writer w(out);
  for (const auto& [name, content] : files) w.AddFile(name, content);
  w.Finish();
  return out.str();
}

std::string Gzip(const std::string& data) {
  z_stream z{};
  if (deflateInit2(&z, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK) throw std::runtime_error("zlib");
  std::string out(deflateBound(&z, data.size()) + 64, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  deflate(&z, Z_FINISH);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

namespace {

std::string Descriptor(std::string_view media_type, const std::string& blob) {
  return R"({"mediaType":")" + std::string(media_type) + R"(","digest":")" + Digest::Of(blob).str() +
         R"(","size":)" + std::to_string(blob.size()) + "}";
}

}  // namespace

TestImage MakeImage(int layer_count, const std::string& arch) {
  TestImage img;
  std::string diff_ids, layers;
  for (int i = 0; i < layer_count; ++i) {
    std::string tar = MakeTar({{"etc/layer" + std::to_string(i), "content of layer " + std::to_string(i) + " " + arch},
                               {"usr/share/doc/" + std::to_string(i), std::string(3000 + i, 'a' + i % 26)}});
    img.diff_layers.push_back(tar);
    img.layers.push_back(Gzip(tar));
    diff_ids += (i ? "," : "") + ("\"" + Digest::Of(tar).str() + "\"");
    layers += (i ? "," : "") + Descriptor(image::media::kOciLayerGzip, img.layers.back());
  }
  img.config = R"({"architecture":")" + arch + R"(","os":"linux","rootfs":{"type":"layers","diff_ids":[)" + diff_ids + "]}}";
  std::string manifest = R"({"schemaVersion":2,"mediaType":")" + std::string(image::media::kOciManifest) +
                         R"(","config":)" + Descriptor(image::media::kOciConfig, img.config) + R"(,"layers":[)" +
                         layers + "]}";
  img.manifest = image::ManifestBlob::FromBytes(manifest);
  return img;
}

void WriteImage(ImageStore& store, const TestImage& img, const std::string& tag) {
  auto put = [&](const std::string& blob) {
    StringReader r(blob);
    store.WriteBlob(Digest::Of(blob), static_cast<int64_t>(blob.size()), r);
  };
  put(img.config);
  for (const std::string& layer : img.layers) put(layer);
  store.WriteManifest(img.manifest, tag);
  store.Commit();
}

}  // namespace outpost::storage::testing
