// Where the applier reads each op's bytes from (docs/layer-delta-format.md). Version 1 has one
// stream, the outer zstd frame, holding every op's fields and bytes in op order; version 2
// splits them into segments whose side streams (op fields, header differences, bsdiff control
// and difference bytes, fresh bytes) are loaded into memory one segment at a time, while bulk
// bytes (payloads, long literals) are read from the frame in op order. Version 1 is the case
// where every stream is the frame.
#pragma once

#include <cstdint>
#include <string>

#include "common/io.h"
#include "delta/format.h"

namespace outpost::delta {

class OpStreams {
 public:
  // Reads from `frame` (the outer frame's content, after the container header); `base` gives
  // the fresh stream's reference. Keeps references to both.
  OpStreams(outpost::Reader& frame, const RandomAccess& base, uint8_t version);

  uint8_t version() const { return version_; }
  // The stream of one kind of bytes, or the frame itself (bulk bytes; every stream in version 1).
  outpost::Reader& Stream(format::Stream kind);
  outpost::Reader& Bulk() { return frame_; }

  // Called before each op's tag: in version 2 loads the next segment when the current one's ops
  // are used up, first checking that its other streams are used up too. Throws Corruption for a
  // segment header that lies (lengths past the limits or the frame, a reference outside the base)
  // or a fresh stream that does not decompress to its declared size.
  void BeforeOp();
  // Called after END: Corruption unless every stream is used up and the frame ends.
  void CheckEnd();

 private:
  // One side stream of a segment, in memory.
  class Bytes : public outpost::Reader {
   public:
    size_t Read(uint8_t* buf, size_t n) override;
    uint64_t left() const { return data.size() - pos; }
    std::string data;
    size_t pos = 0;
  };

  void LoadSegment();
  void CheckUsedUp() const;

  outpost::Reader& frame_;
  const RandomAccess& base_;
  uint8_t version_;
  Bytes streams_[format::kStreamCount];
};

}  // namespace outpost::delta
