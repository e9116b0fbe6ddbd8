// Writes a delta container (format version 2): the fixed header, then one checksummed zstd
// frame of segments, each holding its ops' fields, header differences, bsdiff streams and new
// bytes in separate streams so that like bytes compress together (docs/layer-delta-format.md).
// Used by the layer, raw and signature encoders.
#pragma once

#include <cstdint>
#include <string_view>
#include <utility>
#include <vector>

#include "delta/format.h"
#include "delta/header_op.h"
#include "delta/layer_delta.h"
#include "delta/zstd_util.h"

namespace outpost::delta {

class OpWriter {
 public:
  // Writes the container header naming the base (its size and sha256) to `out`. Adjacent copies
  // are merged into one; with `base` (null in signature mode, which has no base bytes) a literal
  // or ADD equal to the base bytes that continue the previous copy (or the last base range an
  // op referred to) becomes a copy instead, so
  // a run of unchanged entries (headers, content, padding) costs one op.
  OpWriter(Writer& out, format::Kind kind, uint64_t base_size, const Digest& base_digest,
           int zstd_level, LayerDeltaStats* stats, const RandomAccess* base = nullptr);

  void Literal(std::string_view bytes);
  void Copy(uint64_t base_offset, uint64_t length);
  // Target bytes as bytewise differences (mod 256) from `base`, which is
  // base[base_offset, +target.size()): a tar header against its base header where Header()
  // does not fit.
  void Add(uint64_t base_offset, std::string_view base, std::string_view target);
  // A HEADER op: `target` (the previous entry's padding, then an entry's header blocks; the
  // padding is what aligns the target so far to 512 bytes) against `base`, which is
  // base[base_offset, +target.size()) with the padding bytes zeroed. Sends only what the applier cannot predict: the mtime may
  // come from the previous HEADER op and a standard checksum is recomputed. With
  // `content_length` > 0, the entry's content is base[base_offset + target.size(),
  // +content_length) and costs nothing more.
  void Header(uint64_t base_offset, std::string_view base, std::string_view target,
              uint64_t content_length);
  void Payload(Method method, uint64_t base_offset, uint64_t base_length, uint64_t target_length,
               std::string_view payload);
  // Writes the END op with the target's size and digest, the last segment, and closes the frame.
  void End(uint64_t target_size, const Digest& target_digest);

 private:
  class CountingWriter : public Writer {
   public:
    explicit CountingWriter(Writer& inner) : inner_(inner) {}
    using Writer::Write;
    void Write(const uint8_t* data, size_t n) override { inner_.Write(data, n); count += n; }
    uint64_t count = 0;

   private:
    Writer& inner_;
  };

  // Starts an op: writes the pending copy first (unless `op` is that copy), ends the segment
  // when it is full, and writes the tag.
  void StartOp(format::Op op);
  void Tag(format::Op op, std::initializer_list<uint64_t> fields);
  // Writes an op referring to base[offset, +length): offset relative to the cursor, then length
  // and `more` fields.
  void BaseTag(format::Op op, uint64_t offset, uint64_t length, std::initializer_list<uint64_t> more);
  void Flush();
  // Where the base bytes continuing the ops so far start: the end of the pending copy, else the
  // cursor (e.g. the trailer after the last entry's content).
  uint64_t CopyEnd() const;
  // True when `bytes` equal the base bytes at CopyEnd().
  bool ContinuesCopy(std::string_view bytes) const;
  void Account(Method method, uint64_t target_bytes, uint64_t payload_bytes);
  // A BSDIFF payload in raw mode as a BSDIFF_SPLIT op: its streams go to the segment's streams.
  void BsdiffSplit(uint64_t base_offset, uint64_t base_length, uint64_t target_length,
                   std::string_view payload);
  // Bytes read in op order after the segment's streams (payloads, long literals).
  void Bulk(std::string_view bytes);
  // Writes the segment (header, streams, bulk), then `tail`, straight after the bulk bytes.
  void EndSegment(std::string_view tail = {});
  // The base range the fresh stream is compressed against: the window of at most
  // kDictionaryBytes covering most of the base ranges split bsdiffs referred to (their files'
  // old text), from the first range it covers to the end of the last.
  std::pair<uint64_t, uint64_t> Dictionary() const;

  CountingWriter counting_;
  ZstdFrameWriter frame_;
  int zstd_level_;
  LayerDeltaStats* stats_;
  const RandomAccess* base_;
  std::string streams_[format::kStreamCount];  // the segment's side streams
  std::string bulk_;                           // the segment's bulk bytes
  std::vector<std::pair<uint64_t, uint64_t>> split_ranges_;  // base ranges of split bsdiffs
  uint64_t pending_offset_ = 0;  // a copy not written yet (length 0: none)
  uint64_t pending_length_ = 0;
  uint64_t cursor_ = 0;          // end of the last base range an op referred to
  header_op::MtimeMemory last_mtime_;  // of the last HEADER ops' targets
  bool used_previous_mtime_ = false;    // what the last HEADER op chose (ties keep it)
};

}  // namespace outpost::delta
