// Test helper (tests only): builds small images and writes them through the real OCI layout or
// docker-archive store, with layers uncompressed or gzip-compressed by zlib (level 6, the
// encoder Python's zlib and Jib use, which the exact codec reproduces).
#pragma once

#include <zlib.h>

#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "common/digest.h"
#include "common/error.h"
#include "common/io.h"
#include "image/image.h"
#include "storage/image_store.h"
#include "tar/tar_writer.h"

namespace outpost::testing {

using Files = std::map<std::string, std::string>;  // path -> content

// A tar of `files` (sorted by path, mtime `mtime`).
inline std::string MakeTar(const Files& files, int64_t mtime = 1700000000) {
  StringWriter out;
  tar::Writer w(out);
  for (const auto& [name, content] : files) w.AddFile(name, content, mtime);
  w.Finish();
  return std::move(out.str());
}

// gzip of `data` made by zlib at `level` with a `window_bits` window (OS byte 3, MTIME 0, no
// name). A window other than 15 makes a blob no recipe candidate reproduces.
inline std::string Gzip(const std::string& data, int level = 6, int window_bits = MAX_WBITS) {
  z_stream z{};
  if (deflateInit2(&z, level, Z_DEFLATED, 16 + window_bits, 8, Z_DEFAULT_STRATEGY) != Z_OK) throw IOError("deflateInit2");
  std::string out(deflateBound(&z, data.size()) + 64, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  int rc = deflate(&z, Z_FINISH);
  out.resize(z.total_out);
  deflateEnd(&z);
  if (rc != Z_STREAM_END) throw IOError("deflate");
  return out;
}

// Deterministic pseudo-random bytes (incompressible content, like binaries).
inline std::string Noise(size_t n, uint32_t seed) {
  std::string s;
  s.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    seed = seed * 1664525 + 1013904223;
    s.push_back(static_cast<char>(seed >> 24));
  }
  return s;
}

struct TestLayer {
  TestLayer() = default;
  TestLayer(Files f, bool gz) : files(std::move(f)), gzip(gz) {}
  Files files;
  bool gzip = true;
  std::string raw_tar;  // when not empty: the layer's tar as is (files ignored)
  int window_bits = 15;  // zlib's window for a gzip layer; 12: a layer with no recipe
};

// A tar whose single entry is named `name` even when unsafe (the tar writer refuses those):
// written as "x" * name.size(), then renamed in the header with its checksum fixed.
inline std::string TarWithName(const std::string& name, const std::string& content) {
  std::string tar = MakeTar({{std::string(name.size(), 'x'), content}});
  tar.replace(0, name.size(), name);
  tar.replace(148, 8, "        ");
  unsigned sum = 0;
  for (size_t i = 0; i < 512; ++i) sum += static_cast<unsigned char>(tar[i]);
  char field[8];
  std::snprintf(field, sizeof(field), "%06o", sum);
  tar.replace(148, 7, std::string(field, 6) + '\0');
  return tar;
}

// Writes an image of `layers` (bottom first) into the store `ref` names (created if needed),
// tagged with the reference's tag; returns the manifest digest.
inline Digest WriteImage(const std::string& ref, const std::vector<TestLayer>& layers) {
  auto store = storage::OpenStore(storage::Reference::Parse(ref), {}, true);
  bool archive = !store->HoldsCompressedLayers();
  std::string diff_ids, descs;
  for (const TestLayer& l : layers) {
    std::string tar = l.raw_tar.empty() ? MakeTar(l.files) : l.raw_tar;
    bool gz = l.gzip && !archive;
    std::string blob = gz ? Gzip(tar, 6, l.window_bits) : tar;
    Digest d = Digest::Of(blob);
    StringReader r(blob);
    store->WriteBlob(d, static_cast<int64_t>(blob.size()), r);
    diff_ids += std::string(diff_ids.empty() ? "" : ",") + "\"" + Digest::Of(tar).str() + "\"";
    descs += std::string(descs.empty() ? "" : ",") + "{\"mediaType\":\"" +
             std::string(gz ? image::media::kOciLayerGzip : image::media::kOciLayer) + "\",\"digest\":\"" + d.str() +
             "\",\"size\":" + std::to_string(blob.size()) + "}";
  }
  std::string config = "{\"architecture\":\"amd64\",\"os\":\"linux\",\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[" +
                       diff_ids + "]},\"config\":{}}";
  StringReader cr(config);
  store->WriteBlob(Digest::Of(config), static_cast<int64_t>(config.size()), cr);
  std::string manifest = "{\"schemaVersion\":2,\"mediaType\":\"" + std::string(image::media::kOciManifest) +
                         "\",\"config\":{\"mediaType\":\"" + std::string(image::media::kOciConfig) + "\",\"digest\":\"" +
                         Digest::Of(config).str() + "\",\"size\":" + std::to_string(config.size()) + "},\"layers\":[" +
                         descs + "]}";
  image::ManifestBlob blob = image::ManifestBlob::FromBytes(manifest, image::media::kOciManifest);
  store->WriteManifest(blob, storage::Reference::Parse(ref).tag);
  store->Commit();
  return blob.digest;
}

}  // namespace outpost::testing
