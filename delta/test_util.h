// Test helpers: in-memory tars and random access, for the delta engine's unit tests.
#pragma once

#include <cstdio>
#include <cstring>
#include <optional>
#include <random>
#include <string>
#include <string_view>

#include "common/digest.h"
#include "common/error.h"
#include "common/io.h"
#include "delta/layer_delta.h"
#include "delta/zstd_util.h"

namespace outpost::delta::testing {

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

// One ustar header block (with a PAX 'x' block first when `name` is longer than 100 bytes).
inline std::string TarHeader(std::string_view name, uint64_t size, char type = '0',
                             std::string_view linkname = {}, uint64_t mtime = 1700000000) {
  auto block = [&](std::string_view n, uint64_t sz, char t) {
    std::string b(512, '\0');
    n.substr(0, 100).copy(b.data(), 100);
    std::snprintf(b.data() + 100, 8, "%07o", 0644);
    std::snprintf(b.data() + 108, 8, "%07o", 0);
    std::snprintf(b.data() + 116, 8, "%07o", 0);
    std::snprintf(b.data() + 124, 12, "%011llo", static_cast<unsigned long long>(sz));
    std::snprintf(b.data() + 136, 12, "%011llo", static_cast<unsigned long long>(mtime));
    b[156] = t;
    linkname.substr(0, 100).copy(b.data() + 157, 100);
    std::memcpy(b.data() + 257, "ustar\0" "00", 8);
    std::memset(b.data() + 148, ' ', 8);
    unsigned sum = 0;
    for (char c : b) sum += static_cast<unsigned char>(c);
    std::snprintf(b.data() + 148, 8, "%06o", sum);
    return b;
  };
  std::string out;
  if (name.size() > 100) {
    std::string record = " path=" + std::string(name) + "\n";
    size_t len = record.size() + 1;
    while (std::to_string(len).size() + record.size() != len) ++len;
    record = std::to_string(len) + record;
    out += block("PaxHeaders/x", record.size(), 'x');
    out += record;
    out.append((512 - record.size() % 512) % 512, '\0');
  }
  return out + block(name, size, type);
}

// A regular file entry with its content and padding.
inline std::string TarFile(std::string_view name, std::string_view content, uint64_t mtime = 1700000000) {
  std::string out = TarHeader(name, content.size(), '0', {}, mtime);
  out += content;
  out.append((512 - content.size() % 512) % 512, '\0');
  return out;
}

// The end-of-archive marker (two zero blocks).
inline std::string TarEnd() { return std::string(1024, '\0'); }

// Deterministic pseudo-random bytes.
inline std::string RandomBytes(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::string out(n, '\0');
  for (char& c : out) c = static_cast<char>(rng() & 0xff);
  return out;
}

// Text-like bytes that compress (words from a small vocabulary).
inline std::string TextBytes(size_t n, uint32_t seed) {
  static const char* kWords[] = {"alpha ", "beta ", "gamma ", "delta\n", "epsilon ", "zeta ", "eta ", "theta\n"};
  std::mt19937 rng(seed);
  std::string out;
  while (out.size() < n) out += kWords[rng() % 8];
  out.resize(n);
  return out;
}

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
