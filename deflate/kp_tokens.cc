// Ported from github.com/klauspost/compress v1.15.12, flate/token.go.
#include "deflate/kp_tokens.h"

#include <bit>

namespace outpost::deflate::kp {
namespace {

// Approximate log2 from the float's exponent and a quadratic on its mantissa; the exact float
// operations of the original (no fused multiply-add: see CMakeLists.txt).
float FastLog2(float val) {
  int32_t ux = std::bit_cast<int32_t>(val);
  float log2 = static_cast<float>(((ux >> 23) & 255) - 128);
  ux &= -0x7f800001;
  ux += 127 << 23;
  float uval = std::bit_cast<float>(ux);
  float t = -0.34484843f * uval;
  t = t + 2.02466578f;
  t = t * uval;
  t = t - 0.67487759f;
  return log2 + t;
}

float ClampBits(float v) { return v < 1 ? 1 : (v > 15 ? 15 : v); }

}  // namespace

void Tokens::Reset() {
  if (n == 0) return;
  n = 0;
  n_filled = 0;
  lit_hist.fill(0);
  extra_hist.fill(0);
  off_hist.fill(0);
}

void Tokens::AddMatchLong(int32_t length, uint32_t xoffset) {
  uint32_t code = OffsetCode(xoffset);
  xoffset |= code << 16;
  while (length > 0) {
    int32_t piece = length;
    if (piece > kMaxMatchLength) {
      // Leave at least a minimum match for the next piece.
      piece = piece > kMaxMatchLength + kBaseMatchLength ? kMaxMatchLength
                                                         : kMaxMatchLength - kBaseMatchLength;
    }
    length -= piece;
    uint32_t xl = static_cast<uint32_t>(piece - kBaseMatchLength);
    extra_hist[kLengthCodes[xl & 255] + 1u]++;
    off_hist[code & 31]++;
    tokens[n++] = kMatchType | xl << kLengthShift | xoffset;
  }
}

int Tokens::EstimatedBits() const {
  float shannon = 0;
  int bits = 0;
  int matches = 0;
  int total = static_cast<int>(n) + n_filled;
  if (total > 0) {
    float inv_total = 1.0f / static_cast<float>(total);
    for (uint16_t v : lit_hist) {
      if (v > 0) {
        float f = v;
        shannon += ClampBits(-FastLog2(f * inv_total)) * f;
      }
    }
    shannon += 15;  // EOB
    for (int i = 1; i < kLiteralCount - 256; ++i) {
      uint16_t v = extra_hist[i];
      if (v > 0) {
        float f = v;
        shannon += ClampBits(-FastLog2(f * inv_total)) * f;
        bits += kLengthExtraBits[(i - 1) & 31] * v;
        matches += v;
      }
    }
  }
  if (matches > 0) {
    float inv_total = 1.0f / static_cast<float>(matches);
    for (int i = 0; i < kOffsetCodeCount; ++i) {
      uint16_t v = off_hist[i];
      if (v > 0) {
        float f = v;
        shannon += ClampBits(-FastLog2(f * inv_total)) * f;
        bits += kOffsetExtraBits[i] * v;
      }
    }
  }
  return static_cast<int>(shannon) + bits;
}

}  // namespace outpost::deflate::kp
