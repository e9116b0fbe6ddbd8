#include "delta/content_encoder.h"

#include <algorithm>

#include "common/error.h"
#include "delta/bsdiff.h"
#include "delta/zstd_util.h"

namespace outpost::delta {
namespace {

// Below this the bsdiff-style control overhead cannot beat zstd.
constexpr size_t kMinBsdiffBytes = 256;

}  // namespace

std::string ReadBase(const RandomAccess& base, uint64_t offset, uint64_t length) {
  std::string out(length, '\0');
  if (length > 0) base.ReadAt(offset, reinterpret_cast<uint8_t*>(out.data()), out.size());
  return out;
}

std::string ReadEntryContent(tar::Reader& tar, uint64_t n) {
  std::string out(n, '\0');
  size_t done = 0;
  while (done < n) {
    size_t got = tar.ReadData(reinterpret_cast<uint8_t*>(out.data()) + done, n - done);
    if (got == 0) throw Corruption("target tar ends inside an entry");
    done += got;
  }
  return out;
}

Outcome ContentEncoder::Window(const TarIndexEntry* base_file, uint64_t at,
                               std::string_view target) {
  // How far around a window of a large file the base region reaches, for content that moved.
  const uint64_t kMarginBytes = options_.window_bytes / 2;
  if (base_file == nullptr || at >= base_file->size + kMarginBytes) {
    ops_.Literal(target);
    return Outcome::kNew;
  }
  uint64_t start = at > kMarginBytes ? at - kMarginBytes : 0;
  uint64_t end = std::min(base_file->size, at + target.size() + kMarginBytes);
  uint64_t base_offset = base_file->data_offset + start;
  std::string base = ReadBase(base_, base_offset, end - start);
  if (at + target.size() <= end && std::string_view(base).substr(at - start, target.size()) == target) {
    ops_.Copy(base_file->data_offset + at, target.size());
    return Outcome::kCopied;
  }
  Method best = Method::kLiteral;
  std::string best_payload;
  size_t best_size = CompressWithPrefix(target, {}, options_.zstd_level).size();
  auto consider = [&](Method method, std::string payload) {
    if (payload.size() < best_size) {
      best = method;
      best_size = payload.size();
      best_payload = std::move(payload);
    }
  };
  consider(Method::kZstdRef, CompressWithPrefix(target, base, options_.zstd_level));
  if (options_.try_bsdiff && base.size() >= kMinBsdiffBytes && target.size() >= kMinBsdiffBytes) {
    consider(Method::kBsdiff, BsdiffEncode(base, target, options_.zstd_level));
  }
  if (best == Method::kLiteral) {
    ops_.Literal(target);
    return Outcome::kNew;
  }
  ops_.Payload(best, base_offset, base.size(), target.size(), best_payload);
  return Outcome::kDelta;
}

}  // namespace outpost::delta
