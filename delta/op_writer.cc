#include "delta/op_writer.h"

#include <string>

#include "delta/varint.h"

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
  Tag(format::Op::kCopy, {pending_offset_, length});
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

void OpWriter::Xor(uint64_t base_offset, std::string_view base, std::string_view target) {
  if (base == target) return Copy(base_offset, target.size());
  std::string x(target);
  for (size_t i = 0; i < x.size(); ++i) x[i] = static_cast<char>(x[i] ^ base[i]);
  Tag(format::Op::kXor, {base_offset, x.size()});
  frame_.Write(x);
  Account(Method::kXor, x.size(), x.size());
}

void OpWriter::Payload(Method method, uint64_t base_offset, uint64_t base_length,
                       uint64_t target_length, std::string_view payload) {
  format::Op op = method == Method::kZstdRef  ? format::Op::kZstdRef
                  : method == Method::kBsdiff ? format::Op::kBsdiff
                  : method == Method::kRsync  ? format::Op::kRsync
                                              : format::Op::kGzip;
  Tag(op, {base_offset, base_length, target_length, payload.size()});
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
