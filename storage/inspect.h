// What `outpost inspect` reports about an image or index, with every blob verified: manifests,
// configs and layers are streamed through sha256 and compared with the digests that name them.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "compress/gzip_format.h"
#include "image/image.h"
#include "storage/image_store.h"

namespace outpost::storage {

struct LayerReport {
  image::Descriptor descriptor;
  std::optional<Digest> diff_id;        // from the config, when it lists one for this layer
  image::Compression compression;       // sniffed from the blob's first bytes
  std::optional<compress::GzipHeader> gzip;  // when the blob is gzip with a well-formed header
};

struct ImageReport {
  image::ManifestBlob manifest;
  std::optional<image::Platform> platform;  // the index entry's platform, else the config's
  image::Descriptor config;
  bool is_image = true;                     // false for artifacts (signatures, attestations)
  std::vector<LayerReport> layers;
};

struct InspectReport {
  image::ManifestBlob top;                  // what the reference named (image or index)
  std::vector<image::Descriptor> entries;   // the index's entries (empty for an image)
  std::vector<ImageReport> images;          // every image reached (one for an image reference)
  std::vector<std::string> problems;        // one line per mismatching, missing or bad blob
  std::vector<image::Descriptor> absent;    // index entries whose manifest the store does not
                                            // hold (`docker save` keeps one platform of many)
};

struct InspectOptions {
  std::optional<image::Platform> platform;  // pick this platform's image out of an index
  bool verify = true;                       // hash every blob
};

// Reads `tag_or_digest` from `store` and reports it. Blob-level faults (digest or size mismatch,
// missing or malformed blob) become `problems` so that one run lists them all; a failure to
// read the top-level manifest, or no image for `platform`, throws.
InspectReport Inspect(ImageStore& store, const std::string& tag_or_digest, const InspectOptions& options);

// The report as one JSON object: digest, media_type, config, platform, layers[] (digest,
// diff_id, size, media_type, compression, gzip{...}) for an image; manifests[] (the same per
// image, plus platform) for an index, with absent[] (digests of entries not held); problems[].
std::string ReportToJson(const InspectReport& report);

// The report as text for a terminal.
std::string ReportToText(const InspectReport& report);

}  // namespace outpost::storage
