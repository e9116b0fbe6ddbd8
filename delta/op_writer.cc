#include "delta/op_writer.h"

#include <algorithm>
#include <string>

#include "delta/varint.h"
#include "tar/tar_reader.h"

namespace outpost::delta {
namespace {

// The outer frame's window: 16 MiB lets headers and new files refer to recent ones while the
// applier's decoder stays small.
constexpr int kOuterWindowLog = 24;

void PutFixed64(std::string* out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out->push_back(static_cast<char>(v >> (8 * i)));
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
    : counting_(out), frame_(counting_, zstd_level, kOuterWindowLog), stats_(stats), base_(base) {
  counting_.Write(ContainerHeader(kind, base_size, base_digest));
}

void OpWriter::Flush() {
  if (pending_length_ == 0) return;
  uint64_t length = pending_length_;
  pending_length_ = 0;
  BaseTag(format::Op::kCopy, pending_offset_, length, {});
}

bool OpWriter::ContinuesCopy(std::string_view bytes) const {
  constexpr size_t kMaxCheckBytes = 64 << 10;  // padding and headers; not whole new files
  uint64_t end = pending_offset_ + pending_length_;
  if (base_ == nullptr || pending_length_ == 0 || bytes.size() > kMaxCheckBytes ||
      end > base_->size() || bytes.size() > base_->size() - end) {
    return false;
  }
  std::string have(bytes.size(), '\0');
  base_->ReadAt(end, reinterpret_cast<uint8_t*>(have.data()), have.size());
  return have == bytes;
}

void OpWriter::Tag(format::Op op, std::initializer_list<uint64_t> fields) {
  if (op != format::Op::kCopy) Flush();
  std::string s(1, static_cast<char>(op));
  for (uint64_t f : fields) PutVarint(&s, f);
  frame_.Write(s);
}

void OpWriter::BaseTag(format::Op op, uint64_t offset, uint64_t length,
                       std::initializer_list<uint64_t> more) {
  if (op != format::Op::kCopy) Flush();
  std::string s(1, static_cast<char>(op));
  PutSignedVarint(&s, static_cast<int64_t>(offset - cursor_));
  PutVarint(&s, length);
  for (uint64_t f : more) PutVarint(&s, f);
  frame_.Write(s);
  cursor_ = offset + length;
}

void OpWriter::Account(Method method, uint64_t target_bytes, uint64_t payload_bytes) {
  stats_->method_target_bytes[static_cast<int>(method)] += target_bytes;
  stats_->method_delta_bytes[static_cast<int>(method)] += payload_bytes;
}

void OpWriter::Literal(std::string_view bytes) {
  if (bytes.empty()) return;
  if (ContinuesCopy(bytes)) return Copy(pending_offset_ + pending_length_, bytes.size());
  Tag(format::Op::kLiteral, {bytes.size()});
  frame_.Write(bytes);
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
  frame_.Write(x);
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
  for (bool mtime : {used_previous_mtime_, !used_previous_mtime_}) {
    std::string prediction(base);
    if (mtime) header_op::SetLastMtime(&prediction, last_mtime_);
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
  Flush();
  std::string s{static_cast<char>(format::Op::kHeader), static_cast<char>(flags)};
  PutSignedVarint(&s, static_cast<int64_t>(base_offset - cursor_));
  PutVarint(&s, target.size() / tar::kBlockSize);
  frame_.Write(s);
  if (diff) frame_.Write(best);
  cursor_ = base_offset + target.size() + content_length;
  last_mtime_ = header_op::LastMtime(target);
  used_previous_mtime_ = best_mtime;
  Account(Method::kAdd, target.size(), diff ? best.size() : 0);
  if (content_length > 0) Account(Method::kCopy, content_length, 0);
}

void OpWriter::Payload(Method method, uint64_t base_offset, uint64_t base_length,
                       uint64_t target_length, std::string_view payload) {
  format::Op op = method == Method::kZstdRef  ? format::Op::kZstdRef
                  : method == Method::kBsdiff ? format::Op::kBsdiff
                  : method == Method::kRsync  ? format::Op::kRsync
                                              : format::Op::kGzip;
  BaseTag(op, base_offset, base_length, {target_length, payload.size()});
  frame_.Write(payload);
  Account(method, target_length, payload.size());
}

void OpWriter::End(uint64_t target_size, const Digest& target_digest) {
  Tag(format::Op::kEnd, {target_size});
  frame_.Write(target_digest.bytes().data(), 32);
  frame_.Finish();
  stats_->target_bytes = target_size;
  stats_->target_digest = target_digest;
  stats_->delta_bytes = counting_.count;
}

}  // namespace outpost::delta
