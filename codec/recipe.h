// Recipes: how to turn a layer's uncompressed tar back into its exact compressed blob.
//
// A recipe is one line of text, versioned ("v1 ..."), documented byte by byte in
// docs/recipe-format.md. Examples:
//   v1 none
//   v1 gzip hdr=1f8b08000000000000ff deflate=go:6
//   v1 gzip hdr=1f8b080000096e8800ff deflate=pgzip:5:block=1048576:flate=kp1.15
//   v1 gzip hdr=1f8b08000000000000ff deflate=zlib:6:mem=8:strategy=0:wbits=15
//   v1 gzip hdr=1f8b08000000000000003 deflate=pigz:6:block=131072
//   v1 zstd level=3 checksum=1 size=10240 workers=1
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "image/image.h"

namespace outpost::codec {

// Which deflate encoder (family), at which level, with which family options, in the order the
// family defines. See codec/deflate_family.h for the families and their options.
struct DeflateSpec {
  std::string family;
  int level = 0;
  std::vector<std::pair<std::string, std::string>> options;

  // "family:level:key=value:...".
  std::string str() const;
  // The value of option `key`; throws InvalidArgument naming the spec if it is absent.
  const std::string& Option(std::string_view key) const;
  // Option `key` as an integer in [lo, hi]; throws InvalidArgument otherwise.
  int64_t IntOption(std::string_view key, int64_t lo, int64_t hi) const;
  friend bool operator==(const DeflateSpec&, const DeflateSpec&) = default;
};

// libzstd frame parameters (the `zstd` CLI's, by default).
struct ZstdSpec {
  int level = 3;
  bool checksum = true;
  std::optional<uint64_t> content_size;  // pledged source size: written in the frame header
  int workers = 1;                       // 0: single-threaded API; >= 1: libzstd's MT mode
  friend bool operator==(const ZstdSpec&, const ZstdSpec&) = default;
};

struct Recipe {
  image::Compression compression = image::Compression::kNone;
  std::string gzip_header;  // gzip only: the member header, exact bytes
  DeflateSpec deflate;      // gzip only
  ZstdSpec zstd;            // zstd only

  // The one-line text form.
  std::string str() const;
  // Parses the text form. Throws InvalidArgument naming the offending field for an unknown
  // version, a malformed or unknown field, a bad header, or an unknown deflate family.
  static Recipe Parse(std::string_view line);
  friend bool operator==(const Recipe&, const Recipe&) = default;
};

}  // namespace outpost::codec
