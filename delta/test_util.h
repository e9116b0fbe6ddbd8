// Test helpers for the delta engine's unit tests: random access over a string, applying and
// hand-making deltas; tars and bytes come from tests/support.
#pragma once

#include <cstring>
#include <optional>
#include <string>
#include <string_view>

#include "common/digest.h"
#include "common/error.h"
#include "common/io.h"
#include "delta/layer_delta.h"
#include "delta/zstd_util.h"
#include "tests/support/bytes.h"
#include "tests/support/tar.h"

namespace outpost::delta::testing {

// The shared builders, under the names the delta tests use.
using outpost::testing::RandomBytes;
using outpost::testing::TarEnd;
using outpost::testing::TarFile;
using outpost::testing::TarHeader;
using outpost::testing::TextBytes;

// A RandomAccess over a string.
class StringRandomAccess : public RandomAccess {
 public:
  explicit StringRandomAccess(std::string data) : data_(std::move(data)) {}
  void ReadAt(uint64_t offset, uint8_t* buf, size_t n) const override {
    if (offset > data_.size() || n > data_.size() - offset) throw std::runtime_error("short read");
    std::memcpy(buf, data_.data() + offset, n);
  }
  uint64_t size() const override { return data_.size(); }

 private:
  std::string data_;
};

// The tar that layer delta `delta` rebuilds from `base` (`verified_base`: its digest, when the
// caller vouches for it). Throws what ApplyLayerDelta throws.
inline std::string ApplyLayer(const std::string& base, const std::string& delta,
                              const std::optional<Digest>& verified_base = std::nullopt) {
  StringRandomAccess base_ra(base);
  StringReader in(delta);
  StringWriter out;
  ApplyLayerDelta(base_ra, in, out, verified_base);
  return out.str();
}

// The kind of error applying raw delta `delta` to `base` throws (kInvalidArgument, which no
// test expects, when it applies).
inline Error::Kind ApplyRawError(const std::string& base, const std::string& delta) {
  StringRandomAccess base_ra(base);
  StringReader in(delta);
  StringWriter out;
  try {
    ApplyRawDelta(base_ra, in, out);
  } catch (const Error& e) {
    return e.kind();
  }
  return Error::Kind::kInvalidArgument;
}

// A delta container as a malicious, buggy or older encoder could write it: the header (format
// `version`, `kind` 1 layer / 2 raw, naming `base`), then `body` in one zstd frame.
inline std::string DeltaContainer(const std::string& base, std::string_view body, uint8_t version,
                                  uint8_t kind) {
  StringWriter out;
  out.Write(std::string("OPDL", 4) + static_cast<char>(version) + static_cast<char>(kind));
  for (int i = 0; i < 8; ++i) out.Write(std::string(1, static_cast<char>(base.size() >> (8 * i))));
  out.Write(std::string_view(reinterpret_cast<const char*>(Digest::Of(base).bytes().data()), 32));
  ZstdFrameWriter frame(out, 3, 20);
  frame.Write(body);
  frame.Finish();
  return out.str();
}

}  // namespace outpost::delta::testing
