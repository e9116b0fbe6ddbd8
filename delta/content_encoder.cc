#include "delta/content_encoder.h"

#include <algorithm>

#include "common/error.h"
#include "delta/bsdiff.h"
#include "delta/inner_gzip.h"
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
                               std::string_view target, bool whole_file) {
  // How far around a window of a large file the base region reaches, for content that moved.
  const uint64_t margin = options_.window_bytes / 2;
  bool have_base = base_file != nullptr && at < base_file->size + margin;
  uint64_t start = 0, end = 0, base_offset = 0;
  std::string base;
  if (have_base) {
    start = at > margin ? at - margin : 0;
    end = std::min(base_file->size, at + target.size() + margin);
    base_offset = base_file->data_offset + start;
    base = ReadBase(base_, base_offset, end - start);
    if (at + target.size() <= end && std::string_view(base).substr(at - start, target.size()) == target) {
      ops_.Copy(base_file->data_offset + at, target.size());
      return Outcome::kCopied;
    }
  }
  struct Candidate {
    Method method = Method::kLiteral;
    uint64_t base_offset = 0, base_length = 0;
    std::string payload;
  } best;
  size_t best_size = CompressWithPrefix(target, {}, options_.zstd_level).size();
  auto consider = [&](Method method, uint64_t offset, uint64_t length, std::string payload) {
    if (payload.size() < best_size) {
      best_size = payload.size();
      best = Candidate{method, offset, length, std::move(payload)};
    }
  };
  if (have_base) {
    consider(Method::kZstdRef, base_offset, base.size(), CompressWithPrefix(target, base, options_.zstd_level));
    if (options_.try_bsdiff && base.size() >= kMinBsdiffBytes && target.size() >= kMinBsdiffBytes) {
      consider(Method::kBsdiff, base_offset, base.size(), BsdiffEncode(base, target, options_.zstd_level));
    }
  }
  if (whole_file && options_.open_inner_gzip && LooksGzipped(target)) {
    bool base_gz = have_base && start == 0 && end == base_file->size && LooksGzipped(base);
    std::string_view reference = base_gz ? std::string_view(base) : std::string_view();
    if (auto payload = EncodeInnerGzip(reference, target, options_.zstd_level)) {
      consider(Method::kInnerGzip, base_gz ? base_offset : 0, reference.size(), std::move(*payload));
    }
  }
  if (best.method == Method::kLiteral) {
    ops_.Literal(target);
    return Outcome::kNew;
  }
  ops_.Payload(best.method, best.base_offset, best.base_length, target.size(), best.payload);
  return have_base ? Outcome::kDelta : Outcome::kNew;
}

}  // namespace outpost::delta
