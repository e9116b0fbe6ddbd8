// Helpers shared by the codec tests: deterministic sample data and in-memory compression.
#pragma once

#include <cstdint>
#include <string>

#include "codec/rebuild.h"
#include "common/io.h"

namespace outpost::codec::testing {

// `n` bytes of compressible, text-like data that differ with `seed`.
inline std::string SampleText(size_t n, uint32_t seed = 1) {
  static const char* kWords[] = {"layer ", "tar ", "gzip ", "delta ", "outpost ", "remote\n", "image ", "blob "};
  std::string s;
  uint32_t x = seed * 2654435761u + 1;
  while (s.size() < n) {
    x = x * 1103515245u + 12345u;
    s += kWords[(x >> 16) % 8];
    if ((x >> 8) % 7 == 0) s += std::to_string(x % 1000);
  }
  s.resize(n);
  return s;
}

// Compresses `data` with the recipe given as text.
inline std::string Compress(const std::string& recipe, const std::string& data) {
  StringReader in(data);
  StringWriter out;
  Rebuild(Recipe::Parse(recipe), in, out);
  return out.str();
}

}  // namespace outpost::codec::testing
