// Deterministic inputs shared by the GNU gzip encoder's tests: the same bytes on every machine
// for a given seed, so a mismatch against the real gzip can be reproduced.
#pragma once

#include <algorithm>
#include <cstdint>
#include <random>
#include <string>

namespace outpost::deflate::testdata {

// Words, punctuation and line breaks in roughly English proportions.
inline std::string EnglishText(size_t size, uint64_t seed) {
  static const char* const kWords[] = {
      "the",     "of",      "and",    "to",      "in",        "is",      "that",   "for",
      "it",      "as",      "was",    "with",    "be",        "by",      "on",     "not",
      "he",      "this",    "are",    "or",      "his",       "from",    "at",     "which",
      "but",     "have",    "an",     "had",     "they",      "you",     "were",   "their",
      "package", "version", "debian", "upload",  "changelog", "fix",     "bug",    "closes",
      "release", "source",  "build",  "depends", "library",   "compile", "update", "new",
      "upstream", "security", "patch", "maintainer", "standards", "policy", "urgency", "medium"};
  std::mt19937_64 rng(seed);
  std::string out;
  out.reserve(size + 16);
  size_t line = 0;
  while (out.size() < size) {
    uint64_t r = rng();
    const char* w = kWords[r % (sizeof kWords / sizeof kWords[0])];
    out += w;
    line += std::char_traits<char>::length(w) + 1;
    if ((r >> 20) % 17 == 0) out += ',';
    if ((r >> 30) % 23 == 0) out += '.';
    if (line > 60 + (r >> 40) % 15) {
      out += '\n';
      line = 0;
      if ((r >> 50) % 5 == 0) out += "  * ";
    } else {
      out += ' ';
    }
  }
  out.resize(size);
  return out;
}

// Uniformly random bytes (incompressible).
inline std::string RandomBytes(size_t size, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::string out(size, '\0');
  for (size_t i = 0; i < size; ++i) out[i] = char(rng() & 0xff);
  return out;
}

// Text interleaved with zero runs, random stretches and repeats of earlier data.
inline std::string MixedBytes(size_t size, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::string out;
  out.reserve(size + 70000);
  while (out.size() < size) {
    uint64_t r = rng();
    size_t n = 1 + (r >> 8) % 40000;
    switch (r % 4) {
      case 0: out += EnglishText(n, r); break;
      case 1: out.append(n, '\0'); break;
      case 2: out += RandomBytes(n % 3000, r); break;
      default:
        if (!out.empty()) {
          size_t from = (r >> 24) % out.size();
          n = std::min(n, out.size() - from);
          out += out.substr(from, n);
        }
    }
  }
  out.resize(size);
  return out;
}

}  // namespace outpost::deflate::testdata
