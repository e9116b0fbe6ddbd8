// Checks a rebuilt tar stream as it passes, so that a delta can never produce a layer that
// escapes its extraction directory, whatever ops it contains: the guard follows the tar
// structure itself (header blocks where the previous entry's content and padding end), parses
// every entry's headers with the same tar reader the encoder used, and refuses absolute paths and
// ".." components. Whatever follows the last entry must be zero bytes, starting with a zero block.
#pragma once

#include <cstdint>
#include <string>

#include "common/io.h"

namespace outpost::delta {

class TarGuard : public Writer {
 public:
  // Passes checked bytes to `out`, which must outlive the guard.
  explicit TarGuard(Writer& out) : out_(out) {}

  // Throws Corruption for bytes that break the tar structure, Security for an unsafe path.
  // Bytes of a header are passed on only once the whole header has been checked.
  using Writer::Write;
  void Write(const uint8_t* data, size_t n) override;

  // Call at the end of the stream; throws Corruption if it ends inside an entry or a header.
  void Finish();

 private:
  void TryParse();

  Writer& out_;
  uint64_t offset_ = 0;       // bytes seen
  uint64_t next_header_ = 0;  // where the next entry's headers (or the trailer) start
  std::string header_;        // header bytes captured from next_header_
  uint64_t need_ = 512;       // capture this many before trying to parse again
  bool in_trailer_ = false;
};

}  // namespace outpost::delta
