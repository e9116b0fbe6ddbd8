// Defect 12.8: what a hostile layer signature (sent by a site, soon over the network) can make
// the hub allocate, measured. Its own test binary: it replaces the global operator new to meter
// allocations while a test asks it to.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <functional>
#include <new>

#include "common/error.h"
#include "delta/signature.h"
#include "delta/test_util.h"
#include "delta/varint.h"
#include "delta/zstd_util.h"
#include "tests/support/matchers.h"

namespace {

std::atomic<bool> g_metering = false;
std::atomic<uint64_t> g_largest = 0;  // the largest single allocation while metering
std::atomic<uint64_t> g_total = 0;    // all bytes allocated while metering

}  // namespace

void* operator new(size_t n) {
  if (g_metering) {
    g_total += n;
    for (uint64_t was = g_largest; n > was && !g_largest.compare_exchange_weak(was, n);) {
    }
  }
  void* p = std::malloc(n == 0 ? 1 : n);
  if (p == nullptr) throw std::bad_alloc();
  return p;
}
// Not inlined: gcc would otherwise see free() meet `new` at each call site and warn of a mismatch.
[[gnu::noinline]] void operator delete(void* p) noexcept { std::free(p); }
[[gnu::noinline]] void operator delete(void* p, size_t) noexcept { std::free(p); }

namespace outpost::delta {
namespace {

using outpost::testing::ThrowsKind;
using ::testing::HasSubstr;

// Meters the allocations of `f` (which is expected to throw Error).
struct Metered {
  uint64_t largest = 0;
  uint64_t total = 0;
  std::string error;
};
Metered Meter(const std::function<void()>& f) {
  g_largest = 0;
  g_total = 0;
  g_metering = true;
  Metered m;
  try {
    f();
  } catch (const Error& e) {
    m.error = e.what();
  }
  g_metering = false;
  m.largest = g_largest;
  m.total = g_total;
  return m;
}

// A layer signature file around `body` (one zstd frame, content size declared).
std::string SignatureFile(std::string_view body) {
  return "OPSG\x01" + CompressWithPrefix(body, {}, 3);
}

// The body of a signature declaring a `tar_size`-byte tar with `count` entries, each all zeros
// (empty name, type 0, size 0, offset 0, no header bytes): 5 bytes an entry, a zstd RLE run.
std::string EmptyEntries(uint64_t tar_size, uint64_t count) {
  std::string body;
  PutVarint(&body, tar_size);
  body += std::string(32, '\0');
  PutVarint(&body, count);
  body += std::string(count * 5, '\0');
  return body;
}

TEST(SignatureLimits, TenMillionEmptyEntriesAreRefusedBeforeAnyIsHeld) {
  std::string file = SignatureFile(EmptyEntries(uint64_t{10'000'000} * 512, 10'000'000));
  EXPECT_LT(file.size(), 16384u);
  Metered m = Meter([&] {
    StringReader in(file);
    BlockSignature::Read(in);
  });
  EXPECT_THAT(m.error, HasSubstr("entry 0 is not a tar entry"));
  EXPECT_LT(m.total, 2u << 20);  // 2.1 GB at a34d68b
}

TEST(SignatureLimits, EntryCountBeyondWhatTheTarCanHoldIsRefusedFirst) {
  std::string file = SignatureFile(EmptyEntries(1 << 20, 10'000));
  StringReader in(file);
  EXPECT_THAT([&] { BlockSignature::Read(in); }, ThrowsKind(Error::Kind::kCorruption, HasSubstr("more than its 1048576-byte tar")));
}

TEST(SignatureLimits, TarLargerThanTheCallerAllowsIsRefusedFirst) {
  std::string file = SignatureFile(EmptyEntries(1 << 30, 1));
  StringReader in(file);
  EXPECT_THAT([&] { BlockSignature::Read(in, 1 << 20); }, ThrowsKind(Error::Kind::kCorruption, HasSubstr("more than the 1048576 bytes")));
}

// A frame declaring 1 GiB of content (zeros after a valid empty signature) is decoded as it
// streams: nothing near its declared size is allocated before the trailing bytes are found.
TEST(SignatureLimits, DeclaredContentSizeIsNotAllocatedUpFront) {
  std::string body = EmptyEntries(0, 0);
  body.resize(64 << 20, '\0');  // 64 MiB declared; the file is a few kilobytes
  std::string file = SignatureFile(body);
  EXPECT_LT(file.size(), 16384u);
  Metered m = Meter([&] {
    StringReader in(file);
    BlockSignature::Read(in);
  });
  EXPECT_THAT(m.error, HasSubstr("trailing bytes"));
  EXPECT_LT(m.largest, 4u << 20);  // the whole declared size at a34d68b
}

TEST(SignatureLimits, RealSignatureStillReads) {
  std::string base = testing::TarFile("a/x.bin", testing::RandomBytes(50000, 3)) + testing::TarFile("a/e", "") + testing::TarEnd();
  testing::StringRandomAccess base_ra(base);
  StringWriter bytes;
  BlockSignature::Build(base_ra).Write(bytes);
  StringReader in(bytes.str());
  BlockSignature sig = BlockSignature::Read(in, base.size());
  EXPECT_EQ(sig.index.entries.size(), 2u);
  EXPECT_EQ(sig.index.tar_size, base.size());
}

}  // namespace
}  // namespace outpost::delta
