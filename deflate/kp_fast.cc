// Ported from github.com/klauspost/compress v1.15.12, flate/fast_encoder.go.
#include "deflate/kp_fast.h"

#include "deflate/kp_levels.h"

namespace outpost::deflate::kp {
namespace {
constexpr int32_t kPadding = 16;  // lets 8-byte loads run past the end of the history
}  // namespace

void FastEncoder::Encode(Tokens& dst, const uint8_t* src, int32_t n) {
  constexpr int32_t kMinNonLiteralBlockSize = 1 + 1 + kInputMargin;
  if (cur_ >= kBufferReset) {
    // Keep position counters far from overflow.
    RebaseTables(hist_len_ == 0);
    cur_ = kMaxMatchOffset;
  }
  int32_t s = AddBlock(src, n);
  if (n < kMinNonLiteralBlockSize) {
    dst.n = static_cast<uint32_t>(n);
    return;
  }
  EncodeWindow(dst, s);
}

void FastEncoder::RebaseSingles(int32_t* table, size_t n) const {
  for (size_t i = 0; i < n; ++i) table[i] = Rebased(table[i]);
}

void FastEncoder::RebasePairs(Entry2* table, size_t n, bool drop_prev) const {
  int32_t min_off = cur_ + hist_len_ - kMaxMatchOffset;
  for (size_t i = 0; i < n; ++i) {
    Entry2& e = table[i];
    if (drop_prev && e.cur <= min_off) {
      e = Entry2{};
    } else {
      e.cur = Rebased(e.cur);
      e.prev = Rebased(e.prev);
    }
  }
}

void FastEncoder::Reset() {
  if (!hist_) hist_ = std::make_unique<uint8_t[]>(kAllocHistory + kPadding);
  // Move the position counter past everything in the tables so nothing old is in reach.
  if (cur_ <= kBufferReset) cur_ += kMaxMatchOffset + hist_len_;
  hist_len_ = 0;
}

int32_t FastEncoder::AddBlock(const uint8_t* src, int32_t n) {
  if (!hist_) {
    if (n > 0) hist_ = std::make_unique<uint8_t[]>(kAllocHistory + kPadding);
  } else if (hist_len_ + n > kAllocHistory) {
    // Keep only the last window's worth.
    int32_t offset = hist_len_ - kMaxMatchOffset;
    std::memmove(hist_.get(), hist_.get() + offset, kMaxMatchOffset);
    cur_ += offset;
    hist_len_ = kMaxMatchOffset;
  }
  int32_t s = hist_len_;
  if (n > 0) std::memcpy(hist_.get() + hist_len_, src, static_cast<size_t>(n));
  hist_len_ += n;
  return s;
}

std::unique_ptr<FastEncoder> FastEncoder::Create(int level) {
  switch (level) {
    case 1:
      return std::make_unique<FastEncoderL1>();
    case 2:
      return std::make_unique<FastEncoderL2>();
    case 3:
      return std::make_unique<FastEncoderL3>();
    case 4:
      return std::make_unique<FastEncoderL4>();
    case 5:
      return std::make_unique<FastEncoderL5>();
    default:
      return std::make_unique<FastEncoderL6>();
  }
}

}  // namespace outpost::deflate::kp
