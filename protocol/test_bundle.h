// Test-only: small bundles written through the real BundleWriter, for the protocol tests.
#pragma once

#include <filesystem>
#include <string>

#include "common/digest.h"
#include "protocol/bundle_file.h"

namespace outpost::protocol::testing {

// Writes to `path` a bundle for `target` holding a small manifest and config and `layer` as one
// whole uncompressed layer (so a layer of more than 1 MiB spans several chunks), signed when
// `key` is set. `scratch` holds the writer's payload spool.
inline void WriteTestBundle(const std::filesystem::path& scratch, const std::filesystem::path& path,
                            const std::string& layer, const SigningKey* key, std::string target = "oci:/x:v2") {
  const std::string manifest = R"({"schemaVersion":2})", config = R"({"rootfs":{}})";
  BundleWriter w(scratch);
  Header h;
  h.target_reference = std::move(target);
  h.created_by = "test";
  h.manifest = {Digest::Of(manifest), manifest.size(), "application/vnd.oci.image.manifest.v1+json", w.AppendZstd(manifest)};
  h.config = {Digest::Of(config), config.size(), "application/vnd.oci.image.config.v1+json", w.AppendZstd(config)};
  LayerEntry l;
  l.media_type = "application/vnd.oci.image.layer.v1.tar";
  l.digest = l.diff_id = Digest::Of(layer);
  l.size = layer.size();
  l.payload.offset = w.offset();
  w.payload().Write(layer);
  l.payload.length = w.offset() - l.payload.offset;
  h.layers.push_back(l);
  h.registry_bytes = layer.size();
  w.Finish(h, path, key);
}

}  // namespace outpost::protocol::testing
