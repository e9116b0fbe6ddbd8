#include "tests/support/bytes.h"

namespace outpost::testing {

std::string RandomBytes(size_t n, uint64_t seed) {
  std::string out(n, '\0');
  for (char& c : out) {
    // SplitMix64: small, fast and specified to the bit.
    uint64_t z = (seed += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    c = static_cast<char>(z ^ (z >> 31));
  }
  return out;
}

std::string TextBytes(size_t n, uint64_t seed) {
  static const char* const kWords[] = {"layer ", "tar ", "gzip ", "delta ", "outpost ", "remote\n", "image ", "blob "};
  std::string s;
  s.reserve(n + 16);
  uint32_t x = static_cast<uint32_t>(seed) * 2654435761u + 1;
  while (s.size() < n) {
    x = x * 1103515245u + 12345u;
    s += kWords[(x >> 16) % 8];
    if ((x >> 8) % 7 == 0) s += std::to_string(x % 1000);
  }
  s.resize(n);
  return s;
}

std::string Le32(uint32_t v) {
  std::string out;
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>(v >> (8 * i)));
  return out;
}

}  // namespace outpost::testing
