#include "delta/zstd_util.h"

#include <algorithm>
#include <bit>

namespace outpost::delta {
namespace {

constexpr size_t kFrameHoldBackBytes = 4 << 20;

// Smallest window log covering `n` bytes, within zstd's and our bounds.
int WindowLogFor(uint64_t n) {
  int log = n <= 1 ? 10 : static_cast<int>(std::bit_width(n - 1));
  return std::clamp(log, 10, kMaxWindowLog);
}

}  // namespace

std::string CompressWithPrefix(std::string_view data, std::string_view prefix, int level) {
  compress::ZstdParams params{.level = level};
  if (!prefix.empty()) {
    params.window_log = std::max(WindowLogFor(prefix.size() + data.size()), 17);
    // Long-distance matching finds the reference at every level (without it the fast levels'
    // match finders may miss the prefix entirely).
    params.long_distance = true;
  }
  return compress::ZstdCompress(data, params, prefix);
}

std::string DecompressWithPrefix(std::string_view frame, std::string_view prefix,
                                 uint64_t expected_size, std::string_view what) {
  return compress::ZstdDecompress(frame, prefix, expected_size, what, kMaxWindowLog);
}

ZstdFrameWriter::ZstdFrameWriter(Writer& out, int level, int window_log)
    : compress::ZstdWriter(out, compress::ZstdParams{.level = level,
                                                     .checksum = true,
                                                     .window_log = window_log,
                                                     .hold_back = kFrameHoldBackBytes}) {}

ZstdFrameReader::ZstdFrameReader(Reader& in, std::string what)
    : compress::ZstdReader(in, std::move(what), compress::ZstdReadOptions{.max_window_log = kMaxWindowLog, .one_frame = true}) {}

}  // namespace outpost::delta
