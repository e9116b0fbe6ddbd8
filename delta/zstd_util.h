// The delta format's zstd parameters, over compress/zstd.h: one-shot frames with a reference
// prefix (the old file a new one is encoded against) and the delta's outer frame.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/io.h"
#include "compress/zstd.h"

namespace outpost::delta {

// Largest window (log2) a delta may ask the decoder for: 2^28 = 256 MiB covers a reference
// window plus a target window (kWindowBytes each, with margins).
inline constexpr int kMaxWindowLog = 28;

// Compresses `data` at `level` using `prefix` as reference (empty: no reference). The window is
// sized to cover prefix + data, with long-distance matching for large inputs. Throws like
// compress::ZstdCompress (never for valid input).
std::string CompressWithPrefix(std::string_view data, std::string_view prefix, int level);

// Decompresses one frame made by CompressWithPrefix with the same `prefix`. Throws Corruption
// unless the frame decodes to exactly `expected_size` bytes.
std::string DecompressWithPrefix(std::string_view frame, std::string_view prefix,
                                 uint64_t expected_size, std::string_view what);

// The delta's outer stream: one checksummed frame written to `out` with `window_log`. The first
// 4 MiB are held back, so a short stream is compressed knowing its size (see
// compress::ZstdParams::hold_back).
class ZstdFrameWriter : public compress::ZstdWriter {
 public:
  ZstdFrameWriter(Writer& out, int level, int window_log);
};

// Reads the outer stream: exactly one frame with a window of at most 2^kMaxWindowLog; throws
// Corruption (naming `what`) for a truncated or damaged frame or bytes after it.
class ZstdFrameReader : public compress::ZstdReader {
 public:
  ZstdFrameReader(Reader& in, std::string what);
};

}  // namespace outpost::delta
