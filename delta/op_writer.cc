#include "delta/op_writer.h"

#include <algorithm>
#include <bit>
#include <string>

#include "common/error.h"
#include "delta/varint.h"
#include "tar/tar_reader.h"

namespace outpost::delta {
namespace {

// The outer frame's window: 16 MiB lets headers and new files refer to recent ones while the
// applier's decoder stays small.
constexpr int kOuterWindowLog = 24;

// A segment ends once its side streams hold this much (the applier holds a segment's streams
// in memory; format::kMaxSegmentBytes leaves room for one more op of any size) or its bulk
// bytes this much (the encoder holds them until the streams before them are written).
constexpr size_t kSegmentBytes = 4 << 20;
constexpr size_t kBulkBytes = 4 << 20;

// The fresh stream's reference. zstd's slow levels index every reference byte (about 0.13 s per
// MiB): 256 KiB of old text keeps two thirds of what 1 MiB saves on the corpus's app-change
// bundle (255 of 386 bytes) for a quarter of the time, and the security update's delta is a
// little smaller with it.
constexpr uint64_t kDictionaryBytes = 256 << 10;

constexpr uint8_t kBsdiffRawMode = 1;  // docs/layer-delta-format.md, "BSDIFF payload"

void PutFixed64(std::string* out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out->push_back(static_cast<char>(v >> (8 * i)));
}

// The fresh stream against its reference: CompressWithPrefix's frame, with match tables sized
// to the reference (an eighth and half of the slow levels' own: the same bytes, measured on
// the corpus) and no long-distance matching (the window covers it all): 9 MiB of tables to
// zero instead of 36.
std::string CompressFresh(std::string_view fresh, std::string_view dictionary, int level) {
  int log = std::max(static_cast<int>(std::bit_width(dictionary.size() + fresh.size())), 10);
  compress::ZstdParams params{.level = level, .window_log = log, .hash_log = log - 3, .chain_log = log};
  return compress::ZstdCompress(fresh, params, dictionary);
}

std::string ContainerHeader(format::Kind kind, uint64_t base_size, const Digest& base_digest) {
  std::string h(format::kMagic);
  h.push_back(static_cast<char>(format::kVersion));
  h.push_back(static_cast<char>(kind));
  PutFixed64(&h, base_size);
  h.append(reinterpret_cast<const char*>(base_digest.bytes().data()), 32);
  return h;
}

}  // namespace

OpWriter::OpWriter(Writer& out, format::Kind kind, uint64_t base_size, const Digest& base_digest,
                   int zstd_level, LayerDeltaStats* stats, const RandomAccess* base)
    : counting_(out), frame_(counting_, zstd_level, kOuterWindowLog), zstd_level_(zstd_level),
      stats_(stats), base_(base) {
  counting_.Write(ContainerHeader(kind, base_size, base_digest));
}

void OpWriter::Flush() {
  if (pending_length_ == 0) return;
  uint64_t length = pending_length_;
  pending_length_ = 0;
  BaseTag(format::Op::kCopy, pending_offset_, length, {});
}

uint64_t OpWriter::CopyEnd() const {
  return pending_length_ > 0 ? pending_offset_ + pending_length_ : cursor_;
}

bool OpWriter::ContinuesCopy(std::string_view bytes) const {
  constexpr size_t kMaxCheckBytes = 64 << 10;  // padding and headers; not whole new files
  uint64_t end = CopyEnd();
  if (base_ == nullptr || bytes.size() > kMaxCheckBytes ||
      end > base_->size() || bytes.size() > base_->size() - end) {
    return false;
  }
  std::string have(bytes.size(), '\0');
  base_->ReadAt(end, reinterpret_cast<uint8_t*>(have.data()), have.size());
  return have == bytes;
}

void OpWriter::StartOp(format::Op op) {
  if (op != format::Op::kCopy) Flush();
  size_t side = 0;
  for (const std::string& stream : streams_) side += stream.size();
  if (side >= kSegmentBytes) EndSegment();
  streams_[format::kOps].push_back(static_cast<char>(op));
}

void OpWriter::Tag(format::Op op, std::initializer_list<uint64_t> fields) {
  StartOp(op);
  for (uint64_t f : fields) PutVarint(&streams_[format::kOps], f);
}

void OpWriter::BaseTag(format::Op op, uint64_t offset, uint64_t length,
                       std::initializer_list<uint64_t> more) {
  StartOp(op);
  std::string& s = streams_[format::kOps];
  PutSignedVarint(&s, static_cast<int64_t>(offset - cursor_));
  PutVarint(&s, length);
  for (uint64_t f : more) PutVarint(&s, f);
  cursor_ = offset + length;
}

void OpWriter::Bulk(std::string_view bytes) {
  if (bulk_.size() + bytes.size() > kBulkBytes) return EndSegment(bytes);
  bulk_ += bytes;
}

std::pair<uint64_t, uint64_t> OpWriter::Dictionary() const {
  if (base_ == nullptr || split_ranges_.empty()) return {0, 0};
  std::vector<std::pair<uint64_t, uint64_t>> ranges = split_ranges_;
  std::sort(ranges.begin(), ranges.end());
  // Windows starting where a range starts; the one covering most range bytes wins.
  // The window ends with the last range it covers: the base bytes after it are not the old text
  // of any split file, and zstd's slow levels pay for every reference byte they index.
  uint64_t best_start = ranges[0].first, best_cover = 0, best_end = 0;
  for (size_t i = 0; i < ranges.size(); ++i) {
    uint64_t start = ranges[i].first, end = start + kDictionaryBytes, cover = 0, used = start;
    for (size_t j = i; j < ranges.size() && ranges[j].first < end; ++j) {
      uint64_t range_end = std::min(end, ranges[j].first + ranges[j].second);
      cover += range_end - ranges[j].first;
      used = std::max(used, range_end);
    }
    if (cover > best_cover) best_start = start, best_cover = cover, best_end = used;
  }
  return {best_start, std::min(best_end, base_->size()) - best_start};
}

void OpWriter::EndSegment(std::string_view tail) {
  std::string header;
  for (const std::string& stream : streams_) PutVarint(&header, stream.size());
  // The fresh stream: its own zstd frame against old text when split bsdiffs give some, else
  // left to the outer frame as it is.
  std::string fresh = std::move(streams_[format::kFresh]);
  if (!fresh.empty()) {
    auto [offset, length] = Dictionary();
    PutVarint(&header, length);
    if (length > 0) {
      std::string dictionary(length, '\0');
      base_->ReadAt(offset, reinterpret_cast<uint8_t*>(dictionary.data()), length);
      fresh = CompressFresh(fresh, dictionary, zstd_level_);
      PutVarint(&header, offset);
      PutVarint(&header, fresh.size());
    }
  }
  frame_.Write(header);
  for (int k = format::kOps; k < format::kFresh; ++k) frame_.Write(streams_[k]);
  frame_.Write(fresh);
  frame_.Write(bulk_);
  frame_.Write(tail);
  for (std::string& stream : streams_) stream.clear();
  bulk_.clear();
  split_ranges_.clear();
}

void OpWriter::Account(Method method, uint64_t target_bytes, uint64_t payload_bytes) {
  stats_->method_target_bytes[static_cast<int>(method)] += target_bytes;
  stats_->method_delta_bytes[static_cast<int>(method)] += payload_bytes;
}

void OpWriter::Literal(std::string_view bytes) {
  if (bytes.empty()) return;
  if (ContinuesCopy(bytes)) return Copy(CopyEnd(), bytes.size());
  Tag(format::Op::kLiteral, {bytes.size()});
  if (bytes.size() <= format::kMaxFreshLiteral) streams_[format::kFresh] += bytes;
  else Bulk(bytes);
  Account(Method::kLiteral, bytes.size(), bytes.size());
}

void OpWriter::Copy(uint64_t base_offset, uint64_t length) {
  if (length == 0) return;
  Account(Method::kCopy, length, 0);
  if (pending_length_ > 0 && base_offset == pending_offset_ + pending_length_) {
    pending_length_ += length;
    return;
  }
  Flush();
  pending_offset_ = base_offset;
  pending_length_ = length;
}

void OpWriter::Add(uint64_t base_offset, std::string_view base, std::string_view target) {
  if (base == target) return Copy(base_offset, target.size());
  std::string x(target);
  for (size_t i = 0; i < x.size(); ++i) x[i] = static_cast<char>(x[i] - base[i]);
  BaseTag(format::Op::kAdd, base_offset, x.size(), {});
  streams_[format::kAdds] += x;
  Account(Method::kAdd, x.size(), x.size());
}

namespace {

// Differences (mod 256) of `target` from `prediction`; with `checksum`, the last block's checksum
// field is left zero (the applier recomputes it).
std::string Differences(std::string_view prediction, std::string_view target, bool checksum) {
  std::string x(target);
  for (size_t i = 0; i < x.size(); ++i) x[i] = static_cast<char>(x[i] - prediction[i]);
  if (checksum) {
    size_t at = x.size() - tar::kBlockSize + header_op::kChecksumOffset;
    std::fill_n(x.begin() + static_cast<std::ptrdiff_t>(at), header_op::kChecksumBytes, '\0');
  }
  return x;
}

size_t NonZero(std::string_view x) {
  return static_cast<size_t>(std::count_if(x.begin(), x.end(), [](char c) { return c != 0; }));
}

}  // namespace

void OpWriter::Header(uint64_t base_offset, std::string_view base, std::string_view target,
                      uint64_t content_length) {
  std::string standard(target);
  header_op::SetLastChecksum(&standard);
  bool checksum = standard == target;
  // Try the mtime choice of the previous HEADER op first, so that ties keep the stream regular.
  std::string best;
  bool best_mtime = used_previous_mtime_;
  size_t slot = header_op::MtimeSlot(base, format::kVersion);
  for (bool mtime : {used_previous_mtime_, !used_previous_mtime_}) {
    std::string prediction(base);
    if (mtime) header_op::SetLastMtime(&prediction, last_mtime_.Get(slot));
    std::string x = Differences(prediction, target, checksum);
    if (best.empty() || NonZero(x) < NonZero(best)) {
      best = std::move(x);
      best_mtime = mtime;
    }
  }
  bool diff = NonZero(best) > 0;
  uint8_t flags = (diff ? header_op::kDiff : 0) | (best_mtime ? header_op::kPreviousMtime : 0) |
                  (checksum ? header_op::kChecksum : 0) |
                  (content_length > 0 ? header_op::kContent : 0);
  StartOp(format::Op::kHeader);
  std::string& s = streams_[format::kOps];
  s.push_back(static_cast<char>(flags));
  PutSignedVarint(&s, static_cast<int64_t>(base_offset - cursor_));
  PutVarint(&s, target.size() / tar::kBlockSize);
  if (diff) streams_[format::kAdds] += best;
  cursor_ = base_offset + target.size() + content_length;
  last_mtime_.Remember(slot, header_op::LastMtime(target));
  used_previous_mtime_ = best_mtime;
  Account(Method::kAdd, target.size(), diff ? best.size() : 0);
  if (content_length > 0) Account(Method::kCopy, content_length, 0);
}

void OpWriter::Payload(Method method, uint64_t base_offset, uint64_t base_length,
                       uint64_t target_length, std::string_view payload) {
  format::Op op = method == Method::kZstdRef  ? format::Op::kZstdRef
                  : method == Method::kBsdiff ? format::Op::kBsdiff
                  : method == Method::kRsync  ? format::Op::kRsync
                  : method == Method::kElfRef ? format::Op::kElfRef
                                              : format::Op::kGzip;
  if (op == format::Op::kBsdiff && !payload.empty() && payload[0] == kBsdiffRawMode) {
    BsdiffSplit(base_offset, base_length, target_length, payload);
  } else {
    BaseTag(op, base_offset, base_length, {target_length, payload.size()});
    Bulk(payload);
  }
  Account(method, target_length, payload.size());
}

void OpWriter::BsdiffSplit(uint64_t base_offset, uint64_t base_length, uint64_t target_length,
                           std::string_view payload) {
  constexpr std::string_view kWhat = "bsdiff payload";
  size_t pos = 1;
  std::string_view control = GetBytes(payload, &pos, kWhat);
  std::string_view diff = GetBytes(payload, &pos, kWhat);
  std::string_view extra = payload.substr(pos);
  BaseTag(format::Op::kBsdiffSplit, base_offset, base_length,
          {target_length, control.size(), diff.size(), extra.size()});
  streams_[format::kControl] += control;
  streams_[format::kDiff] += diff;
  streams_[format::kFresh] += extra;
  split_ranges_.emplace_back(base_offset, base_length);
}

void OpWriter::End(uint64_t target_size, const Digest& target_digest) {
  Tag(format::Op::kEnd, {target_size});
  streams_[format::kOps].append(reinterpret_cast<const char*>(target_digest.bytes().data()), 32);
  EndSegment();
  frame_.Finish();
  stats_->target_bytes = target_size;
  stats_->target_digest = target_digest;
  stats_->delta_bytes = counting_.count;
}

}  // namespace outpost::delta
