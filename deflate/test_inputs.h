// Deterministic sample inputs for the exact-encoder tests and benchmarks: the kinds of content
// container layers hold (text, binaries, compressed files, zero runs, small records, tars).
// Test-only helpers; the same seed gives the same bytes on every machine, except the inputs
// that copy this machine's own files (Binaries, DocTar).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "tests/support/bytes.h"

namespace outpost::deflate::testing {

// English-like text of `n` bytes: words drawn with a skewed distribution, punctuation, lines.
std::string EnglishText(size_t n, uint64_t seed);
// `n` uniformly random bytes (incompressible, like an already-compressed file).
using outpost::testing::RandomBytes;
// Long runs of zeros broken by short random bursts (sparse files, padding).
std::string ZeroRuns(size_t n, uint64_t seed);
// Many short, similar records ("key=... value=..." lines).
std::string TinyRecords(size_t n, uint64_t seed);
// The bytes of executables in /usr/bin (ELF code and data), repeated up to `n` bytes.
std::string Binaries(size_t n);
// A tar-like stream: 512-byte headers followed by padded file contents taken from /usr/share/doc
// and /usr/share/common-licenses, up to `n` bytes.
std::string DocTar(size_t n);
// Text interleaved with zero runs, random stretches and repeats of earlier data.
std::string MixedBytes(size_t n, uint64_t seed);
// A layer-like mix of all of the above in pieces of varying size, `n` bytes.
std::string LayerMix(size_t n, uint64_t seed);

}  // namespace outpost::deflate::testing
