#include "delta/op_streams.h"

#include <algorithm>
#include <cstring>

#include "common/error.h"
#include "delta/content_encoder.h"
#include "delta/varint.h"
#include "delta/zstd_util.h"

namespace outpost::delta {

OpStreams::OpStreams(outpost::Reader& frame, const RandomAccess& base, uint8_t version)
    : frame_(frame), base_(base), version_(version) {}

size_t OpStreams::Bytes::Read(uint8_t* buf, size_t n) {
  size_t k = static_cast<size_t>(std::min<uint64_t>(n, left()));
  std::memcpy(buf, data.data() + pos, k);
  pos += k;
  return k;
}

outpost::Reader& OpStreams::Stream(format::Stream kind) {
  if (version_ < format::kFirstSplitVersion) return frame_;
  return streams_[kind];
}

void OpStreams::BeforeOp() {
  if (version_ >= format::kFirstSplitVersion && streams_[format::kOps].left() == 0) LoadSegment();
}

void OpStreams::CheckUsedUp() const {
  for (const Bytes& stream : streams_) {
    if (stream.left() != 0) throw Corruption("delta segment has bytes no op uses");
  }
}

void OpStreams::LoadSegment() {
  CheckUsedUp();
  constexpr std::string_view kWhat = "delta segment";
  uint64_t lengths[format::kStreamCount], total = 0;
  for (uint64_t& length : lengths) {
    length = ReadVarint(frame_, kWhat);
    if (length > format::kMaxSegmentBytes - total) {
      throw Corruption("delta segment is larger than the format allows");
    }
    total += length;
  }
  if (lengths[format::kOps] == 0) throw Corruption("delta segment has no ops");
  const uint64_t fresh_length = lengths[format::kFresh];
  uint64_t dictionary_offset = 0, dictionary_length = 0, frame_length = fresh_length;
  if (fresh_length > 0) {
    dictionary_length = ReadVarint(frame_, kWhat);
    if (dictionary_length > 0) {
      dictionary_offset = ReadVarint(frame_, kWhat);
      frame_length = ReadVarint(frame_, kWhat);
    }
    if (frame_length > compress::ZstdCompressBound(fresh_length) ||
        dictionary_length > format::kMaxDictionary || dictionary_offset > base_.size() ||
        dictionary_length > base_.size() - dictionary_offset) {
      throw Corruption("delta segment's fresh stream is out of range");
    }
  }
  lengths[format::kFresh] = frame_length;  // as stored: the frame, when compressed
  for (int k = format::kOps; k < format::kStreamCount; ++k) {
    Bytes& stream = streams_[k];
    stream.data.resize(lengths[k]);
    stream.pos = 0;
    ReadFull(frame_, reinterpret_cast<uint8_t*>(stream.data.data()), stream.data.size(), kWhat);
  }
  if (dictionary_length > 0) {
    Bytes& fresh = streams_[format::kFresh];
    std::string dictionary = ReadBase(base_, dictionary_offset, dictionary_length);
    fresh.data = DecompressWithPrefix(fresh.data, dictionary, fresh_length, "delta fresh stream");
  }
}

void OpStreams::CheckEnd() {
  if (version_ >= format::kFirstSplitVersion) CheckUsedUp();
  uint8_t extra;
  if (frame_.Read(&extra, 1) != 0) throw Corruption("delta has ops after its end");
}

}  // namespace outpost::delta
