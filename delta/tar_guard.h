// Checks a rebuilt tar stream as it passes, so that a delta can never produce a layer that
// escapes its extraction directory: every entry's header blocks must be announced by the delta
// (ENTRY op) exactly where the previous entry's content and padding end, each announced header
// must parse, and its path must be relative with no ".." component. Whatever follows the last
// entry must start with a zero block (the end-of-archive marker).
#pragma once

#include <cstdint>
#include <string>

#include "common/io.h"

namespace outpost::delta {

class TarGuard : public Writer {
 public:
  // Passes checked bytes to `out`, which must outlive the guard.
  explicit TarGuard(Writer& out) : out_(out) {}

  // The next `length` bytes are one entry's header blocks. Throws Corruption if an entry cannot
  // start at the current offset.
  void BeginEntry(uint64_t length);

  // Throws Corruption for bytes that break the tar structure, Security for an unsafe path.
  using Writer::Write;
  void Write(const uint8_t* data, size_t n) override;

  // Call at the end of the stream; throws Corruption if it ends inside an entry or a header.
  void Finish();

 private:
  void CheckHeader();

  Writer& out_;
  uint64_t offset_ = 0;
  uint64_t next_header_ = 0;     // where the next entry's headers (or the trailer) must start
  uint64_t header_left_ = 0;     // header bytes still to capture
  std::string header_;
  bool in_trailer_ = false;
  std::string trailer_head_;     // the trailer's first block, checked to be zero
};

}  // namespace outpost::delta
