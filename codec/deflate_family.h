// The table of deflate encoder families a gzip recipe can name. Each family is one row: its
// name, its options (in recipe order, with defaults), how to build its encoder, and which
// settings a given gzip header makes plausible. Adding an encoder family (from deflate/) to
// detection and rebuild means adding one row in deflate_family.cc.
#pragma once

#include <memory>
#include <string_view>
#include <vector>

#include "codec/recipe.h"
#include "common/io.h"
#include "compress/gzip_format.h"
#include "deflate/encoder.h"

namespace outpost::codec {

struct DeflateOption {
  std::string_view key;
  std::string_view default_value;
};

struct DeflateFamily {
  std::string_view name;
  int min_level;
  int max_level;
  std::vector<DeflateOption> options;
  // Builds the encoder (with its block layout) that writes a raw deflate stream to `out`.
  // `spec` has been checked by Normalize. Throws InvalidArgument for option values it rejects.
  std::unique_ptr<deflate::Encoder> (*make)(const DeflateSpec& spec, Writer& out);
  // The specs worth trying for a blob with this header, most likely first; empty when the
  // header rules the family out (its OS byte or fingerprint differs).
  std::vector<DeflateSpec> (*candidates)(const compress::GzipHeader& header);
};

// Every family, in the order detection tries them.
const std::vector<DeflateFamily>& DeflateFamilies();

// Checks `spec` against its family (known family, level in range, only known options) and
// returns it with every option present, in the family's order (defaults filled in). Throws
// InvalidArgument naming the spec otherwise.
DeflateSpec Normalize(const DeflateSpec& spec);

// Builds the encoder for a normalized spec, writing raw deflate to `out` (which must outlive it).
std::unique_ptr<deflate::Encoder> MakeDeflateEncoder(const DeflateSpec& spec, Writer& out);

}  // namespace outpost::codec
