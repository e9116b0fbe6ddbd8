// The harness the exact-encoder oracle tests share: run a real encoder (a Go oracle, GNU gzip) on
// an input, feed ours the same input with the same write splits and flushes, and say where the
// two outputs part. Test-only (outpost_deflate_testing).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "deflate/encoder.h"

namespace outpost::deflate::testing {

// Every level Go's compress/flate and klauspost's flate accept (-2 Huffman only ... 9).
inline constexpr int kGoLevels[] = {-2, -1, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9};

// Runs `program args` through the shell with `input` as its standard input (a regular file) and
// returns its standard output. Throws NotFound if `program` is a path that does not exist (an
// oracle that was not built) and IOError if the command fails.
std::string RunOracle(const std::string& program, const std::string& args, std::string_view input);

// Writes `input` to `encoder` in pieces of the sizes in `pieces` (the rest in one piece), with a
// SyncFlush after every `flush_every` bytes if non-zero (and after a shorter last stretch too when
// `flush_tail`), then calls Finish.
void FeedEncoder(Encoder& encoder, std::string_view input, const std::vector<size_t>& pieces = {},
                 size_t flush_every = 0, bool flush_tail = false);

// Write sizes for a stream of `total` bytes, split at random points (one in three tiny), the
// same for the same seed.
std::vector<size_t> RandomPieces(size_t total, uint64_t seed);

// Inflates raw DEFLATE (window_bits -15, with an optional preset dictionary) or gzip (31) with
// zlib, up to the end of the first stream. Throws Corruption if the stream is bad or cut off.
std::string Inflate(std::string_view data, int window_bits, std::string_view dict = {});

// Lowercase hex of `bytes`, for comparing with outputs recorded from the originals.
std::string Hex(std::string_view bytes);

// "identical", or where `ours` first differs from `theirs` and both sizes: for failure messages.
std::string Diff(std::string_view ours, std::string_view theirs);

}  // namespace outpost::deflate::testing
