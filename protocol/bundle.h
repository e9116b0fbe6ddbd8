// Bundle format (v2): the data model of a bundle's header (docs/bundle-format.md has the bytes).
//
// A bundle turns images the far side holds (the bases) into one target image. The header names
// the target, the bases it needs, and per target layer how to rebuild it from a span of the
// payload. The payload is one logical byte stream cut into chunks addressed by sha256 (see
// bundle_file.h), so spans may cross chunk boundaries.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/digest.h"

namespace outpost::protocol {

// The format version this outpost writes, and the newest it reads. Older versions stay
// readable forever; a newer one is refused with a message that says to upgrade.
// Version 2 stores the header as a zstd frame; version 1 stored it as plain JSON.
inline constexpr uint32_t kFormatVersion = 2;

// Header limits, enforced while the JSON is parsed (before the model is built), chosen so that no
// legitimate image reaches them (docs/bundle-format.md, "Limits"):
// - the stored header and the decoded JSON are at most 16 MiB each (a layer's entry is about
//   0.5 KB, so 1,000 layers take about 0.5 MB);
// - at most 1,000 layers and 1,000 bases: Docker refuses images deeper than 127 layers
//   (overlay2), containerd's overlay mounts stop near 500; a bundle lists only the bases its
//   layers use;
// - nesting at most 8 deep (the header's own deepest value is at depth 4) and at most 100,000
//   JSON values in all (about 16 per layer entry), so a crafted header cannot build a huge tree.
inline constexpr uint32_t kMaxHeaderBytes = 16 << 20;
inline constexpr size_t kMaxLayers = 1000;
inline constexpr size_t kMaxBases = 1000;
inline constexpr int kMaxHeaderDepth = 8;
inline constexpr size_t kMaxHeaderValues = 100000;

// How a target layer is rebuilt.
enum class Method {
  kPresent,   // the far side holds the base named by `base` with this layer's content
  kTarDelta,  // payload = tar delta against the base's tar; the recipe recompresses the tar
  kRawDelta,  // payload = delta of the blob bytes against the base's blob bytes
  kWhole,     // payload = the blob itself
};
std::string_view MethodName(Method m);
// Parses a MethodName; throws Corruption for anything else.
Method ParseMethod(std::string_view name);

// How a payload span is stored.
enum class Encoding {
  kRaw,   // the bytes themselves
  kZstd,  // one zstd frame of the bytes
};

// A span of the logical payload stream.
struct Span {
  uint64_t offset = 0;
  uint64_t length = 0;
  Encoding encoding = Encoding::kRaw;
};

// A base layer the far side must hold: the blob as its store holds it (a docker-archive holds
// the uncompressed tar, whose digest is then the diffID), and the diffID.
struct BaseLayer {
  Digest digest;
  Digest diff_id;
  uint64_t size = 0;  // bytes of that blob
  friend bool operator==(const BaseLayer&, const BaseLayer&) = default;
};

struct LayerEntry {
  std::string media_type;  // as the target manifest names it
  Digest digest;           // the target blob
  uint64_t size = 0;
  Digest diff_id;          // sha256 of the uncompressed tar
  Method method = Method::kWhole;
  // The exact-codec recipe line that turns the tar into the blob; empty for an uncompressed
  // layer (the blob is the tar).
  std::string recipe;
  std::optional<size_t> base;  // index into Header::bases (present, tar-delta, raw-delta)
  Span payload;                // empty for present
};

// A document shipped whole (manifest, config).
struct Document {
  Digest digest;
  uint64_t size = 0;
  std::string media_type;
  Span payload;
};

// A small document carried along with the target, whole, and published after it: a blob (an
// artifact's config or layer) or a manifest (a cosign signature `sha256-<hex>.sig`, the
// multi-platform index the target belongs to), with the tag to point at it ("" for none).
// Manifests are published in this order after every blob; an index only when the far side
// holds every manifest it names.
struct CarriedDocument {
  Document document;
  bool manifest = false;
  std::string tag;
};

// At most this many carried documents (a few signatures, attestations and SBOMs per image).
inline constexpr size_t kMaxCarried = 1000;

struct Header {
  std::string target_reference;  // as the hub named it (--to), for messages and default tags
  Document manifest;
  Document config;
  std::vector<BaseLayer> bases;
  std::vector<LayerEntry> layers;
  uint64_t payload_bytes = 0;   // the whole logical payload stream
  uint64_t registry_bytes = 0;  // what a registry would have shipped the far side instead
  std::string created_by;       // "outpost 0.1.0"
  std::vector<CarriedDocument> carried;  // optional "carried" field; none in older bundles

  // Compact JSON, as stored in the file. FromJson enforces the limits above while parsing and
  // validates every field and every span against payload_bytes; it throws Corruption naming the
  // field or the limit.
  std::string ToJson() const;
  static Header FromJson(std::string_view json);
};

}  // namespace outpost::protocol
