// Raw DEFLATE exactly as github.com/klauspost/compress/flate v1.15.12 writes it (the version
// Debian 12 packages, and the one skopeo, podman, buildah and apko compress layers with through
// klauspost/pgzip). See kp_*.h for the parts.
#pragma once

#include <memory>
#include <string_view>

#include "common/io.h"
#include "deflate/encoder.h"

namespace outpost::deflate {

// An encoder that can start over: what klauspost's Writer.ResetDict does, and what pgzip does
// for every block. Cheaper than a new encoder (the tables are not reallocated or cleared).
class KlauspostEncoder : public Encoder {
 public:
  // Equivalent to NewKlauspostEncoder(same level, out, dictionary); any unfinished stream is
  // abandoned.
  virtual void Reset(Writer& out, std::string_view dictionary) = 0;
};

// An encoder producing the bytes of klauspost's flate.NewWriterDict(out, level, dictionary)
// given the same Write/Flush/Close sequence. level: -2 (Huffman only), -1 (default, = 5),
// 0 (stored), 1..9. `dictionary` is copied; only its last 32 KiB matter. `out` is not owned and
// must outlive the encoder. Throws Error(InvalidArgument) for another level. Memory is constant
// (about 1.5 MiB at levels 1-6).
std::unique_ptr<KlauspostEncoder> NewKlauspostEncoder(int level, Writer& out,
                                                      std::string_view dictionary = {});

}  // namespace outpost::deflate
