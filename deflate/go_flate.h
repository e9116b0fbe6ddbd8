// Go's compress/flate encoder as shipped in Go 1.19 to 1.26 (its output did not change over
// those releases; Go 1.27 replaced it). Docker, BuildKit and containerd compress layers with it
// at level 6, go-containerregistry (crane, ko, kaniko) at level 1.
#pragma once

#include <memory>

#include "common/io.h"
#include "deflate/encoder.h"

namespace outpost::deflate {

// Returns an encoder that writes to `out` exactly the raw DEFLATE bytes that Go's
// flate.NewWriter(out, level) writes for the same Write/Flush/Close calls: level -2
// (HuffmanOnly), 0 (NoCompression), 1 (BestSpeed), 2..9, or -1 (= 6). `out` must outlive the
// encoder; the encoder holds a fixed amount of memory (window, hash tables, one block of tokens).
// For levels 2..9 Go's output can depend on how the input is split into Write calls in rare
// cases (a block ending exactly where its window slides); this encoder reproduces Go for the same
// split. Throws InvalidArgument for any other level; errors from `out` propagate.
std::unique_ptr<Encoder> NewGoEncoder(int level, Writer& out);

}  // namespace outpost::deflate
