// Encodes one window of target content against the corresponding window of a base file, trying
// every method that can win (zstd with the base as reference, bsdiff-style, inner gzip) against
// the bytes alone, and emits the smallest: candidates are sized at a fast zstd level and only
// the close ones compressed at the final level.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "delta/layer_delta.h"
#include "delta/op_writer.h"
#include "tar/tar_reader.h"

namespace outpost::delta {

// What happened to a piece of content; ordered so that the max over a file's windows says how
// the file as a whole was encoded.
enum class Outcome { kCopied = 0, kDelta = 1, kNew = 2 };

// Reads base[offset, offset + length) into memory. Throws Corruption if the base is shorter.
std::string ReadBase(const RandomAccess& base, uint64_t offset, uint64_t length);

// Reads the next `n` bytes of the current entry of `tar`. Throws Corruption if the entry is
// shorter.
std::string ReadEntryContent(tar::Reader& tar, uint64_t n);

class ContentEncoder {
 public:
  // Keeps references; all must outlive the encoder.
  ContentEncoder(const RandomAccess& base, OpWriter& ops, const EncodeOptions& options)
      : base_(base), ops_(ops), options_(options) {}

  // Encodes `target`, the bytes at offset `at` of a target file, against `base_file` (null: no
  // base): the base region [at - margin, at + size + margin) of that file, the whole file when
  // it is small. `whole_file` says `target` is the entire file, which lets a gzip file be
  // encoded uncompressed and rebuilt exactly (inner-gzip method).
  Outcome Window(const TarIndexEntry* base_file, uint64_t at, std::string_view target,
                 bool whole_file = false);

 private:
  const RandomAccess& base_;
  OpWriter& ops_;
  const EncodeOptions& options_;
};

}  // namespace outpost::delta
