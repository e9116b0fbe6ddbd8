// Opening the uncompressed stream behind a compressed one, whichever the compression: what
// stores and the sync engine use to turn a layer blob into its tar.
#pragma once

#include <memory>
#include <string>

#include "common/io.h"
#include "compress/compression.h"

namespace outpost::compress {

// A reader of the uncompressed stream behind `compressed` (which must outlive the result):
// GzipReader, ZstdReader, or `compressed` itself passed through for kNone.
std::unique_ptr<Reader> OpenDecompressed(Reader& compressed, Compression compression);

// The same, owning `compressed`, for a store or the sync engine turning a named blob into its
// tar: every error a read throws (from the decoder or from `compressed`) keeps its kind and has
// its message prefixed with `what` (e.g. "layer sha256:...") unless it starts with it already.
// kNone returns `compressed` itself.
std::unique_ptr<Reader> OpenDecompressed(std::unique_ptr<Reader> compressed, Compression compression,
                                         std::string what);

}  // namespace outpost::compress
