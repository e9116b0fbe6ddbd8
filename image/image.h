// The image model: OCI and Docker v2 schema 2 manifests, indexes / manifest lists, descriptors
// and image configs.
//
// Parsing validates and keeps the original bytes: a manifest's digest is over its exact bytes,
// so outpost never re-serializes a manifest or config it only passes through. Unknown fields
// survive because the bytes do. Objects outpost creates (a rewritten manifest for a
// docker-archive) are serialized once and then treated like any other bytes.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/digest.h"
#include "compress/compression.h"

namespace outpost::image {

namespace media {
inline constexpr std::string_view kOciManifest = "application/vnd.oci.image.manifest.v1+json";
inline constexpr std::string_view kOciIndex = "application/vnd.oci.image.index.v1+json";
inline constexpr std::string_view kOciConfig = "application/vnd.oci.image.config.v1+json";
inline constexpr std::string_view kOciLayer = "application/vnd.oci.image.layer.v1.tar";
inline constexpr std::string_view kOciLayerGzip = "application/vnd.oci.image.layer.v1.tar+gzip";
inline constexpr std::string_view kOciLayerZstd = "application/vnd.oci.image.layer.v1.tar+zstd";
inline constexpr std::string_view kDockerManifest = "application/vnd.docker.distribution.manifest.v2+json";
inline constexpr std::string_view kDockerList = "application/vnd.docker.distribution.manifest.list.v2+json";
inline constexpr std::string_view kDockerConfig = "application/vnd.docker.container.image.v1+json";
inline constexpr std::string_view kDockerLayerGzip = "application/vnd.docker.image.rootfs.diff.tar.gzip";
inline constexpr std::string_view kDockerLayerForeign = "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip";
// Uncompressed Docker layer (what a docker-archive's rewritten manifest names).
inline constexpr std::string_view kDockerLayer = "application/vnd.docker.image.rootfs.diff.tar";
}  // namespace media

// Layer compression is the compress/ folder's (its sniffer reads a blob's first bytes).
using compress::Compression;
using compress::CompressionName;
using compress::SniffCompression;

// True for the layer media types above (plain, gzip, zstd; OCI and Docker). Artifacts and
// non-distributable variants count as layers when they are tar-based.
bool IsLayerMediaType(std::string_view media_type);
// The compression a layer media type declares. Throws Unsupported for a media type that is not
// a layer.
Compression LayerCompression(std::string_view media_type);
// True for the manifest and index media types outpost reads (OCI, Docker v2 schema 2).
bool IsManifestMediaType(std::string_view media_type);
// True for the image config media types (OCI and Docker).
bool IsImageConfigMediaType(std::string_view media_type);
// The uncompressed layer media type of the same family: OCI layers become kOciLayer, Docker
// layers kDockerLayer. Throws Unsupported for a media type that is not a layer.
std::string_view UncompressedLayerMediaType(std::string_view media_type);

struct Platform {
  std::string os;
  std::string architecture;
  std::string variant;
  // "linux/amd64" or "linux/arm/v7".
  std::string str() const;
  // Parses "os/arch[/variant]". Throws InvalidArgument otherwise.
  static Platform Parse(std::string_view text);
  // True when os and architecture are equal and, if `want` names a variant, the variant too.
  bool Matches(const Platform& want) const;
};

// A content descriptor: what a manifest says about a blob it names.
struct Descriptor {
  std::string media_type;
  Digest digest;
  int64_t size = 0;
  std::optional<Platform> platform;  // only in index entries
  std::string annotations_json;      // "{}"-style JSON text, empty when absent
};

// True for an index entry that is some platform's image; false for an attachment listed beside
// them (a build attestation: platform "unknown/unknown", or no platform at all).
inline bool IsPlatformImage(const Descriptor& entry) { return entry.platform && entry.platform->os != "unknown"; }

// A manifest or index exactly as stored: its bytes, the digest of those bytes, and the media
// type it declares (or was served with, for manifests that omit mediaType).
struct ManifestBlob {
  std::string media_type;
  std::string bytes;
  Digest digest;

  bool is_index() const { return media_type == media::kOciIndex || media_type == media::kDockerList; }
  // Builds one from bytes, computing the digest. `media_type` may be empty: then it is read from
  // the document's mediaType field, or inferred (OCI manifest if it has "config", OCI index if it
  // has "manifests"). Throws Corruption for malformed JSON, Unsupported for a schema 1 manifest
  // or an unknown media type.
  static ManifestBlob FromBytes(std::string bytes, std::string_view media_type = "");
};

// A single-platform image manifest (OCI or Docker v2 schema 2).
struct Manifest {
  ManifestBlob blob;
  Descriptor config;
  std::vector<Descriptor> layers;

  // Parses and validates: schemaVersion 2, config and layer descriptors with well-formed media
  // types, valid sha256 digests and non-negative sizes. Throws Corruption / Unsupported with a
  // message that names the manifest digest and the offending field. Blobs of other media types
  // than layers are allowed: that makes the manifest an artifact (see is_image).
  static Manifest Parse(const ManifestBlob& blob);
  // True for a container image: an image config and only layer media types. False for an
  // artifact (a signature, an SBOM, an attestation, a Helm chart).
  bool is_image() const;
};

// An OCI image index or Docker manifest list.
struct Index {
  ManifestBlob blob;
  std::vector<Descriptor> manifests;

  static Index Parse(const ManifestBlob& blob);
};

// How many indexes deep a walk from a top index may go (the top is 1). Real images nest 2 (an
// index naming per-platform indexes) or 3 at most; a deeper chain is refused as Corruption
// before it can exhaust the stack. Walks also visit each digest once, so indexes that share
// children cannot multiply the work.
inline constexpr int kMaxIndexDepth = 8;

// Throws Corruption naming `index` when an index at `depth` (the top is 1) exceeds
// kMaxIndexDepth.
void CheckIndexDepth(int depth, const Digest& index);

// An image config: only what outpost needs from it, plus its exact bytes.
struct Config {
  std::string bytes;
  Digest digest;
  std::vector<Digest> diff_ids;  // rootfs.diff_ids, one per layer, bottom first
  Platform platform;

  // Throws Corruption for malformed JSON, a missing rootfs, or an invalid diff_id.
  static Config Parse(std::string bytes);
};

// The descriptors a manifest or index names: an image manifest's config then its layers, an
// index's entries. Throws like Manifest::Parse / Index::Parse.
std::vector<Descriptor> ReferencedDescriptors(const ManifestBlob& blob);

// Checks that `bytes` match `desc` (size and digest); throws Corruption naming `what` and both
// digests otherwise.
void VerifyDescriptor(const Descriptor& desc, std::string_view bytes, std::string_view what);

}  // namespace outpost::image
