#include "delta/signature.h"

#include <gtest/gtest.h>

#include "common/error.h"
#include "delta/test_util.h"
#include "tests/support/matchers.h"

namespace outpost::delta {
namespace {

using outpost::testing::ThrowsKind;
using testing::RandomBytes;
using testing::StringRandomAccess;
using testing::TarEnd;
using testing::TarFile;
using testing::TextBytes;

TEST(BlockSignature, DeltaFromSignatureAppliesAgainstTheRealBase) {
  std::string big = TextBytes(100000, 21);
  std::string base = TarFile("a/big.txt", big) + TarFile("a/same.bin", RandomBytes(9000, 22)) + TarEnd();
  std::string changed = big;
  changed.replace(50000, 10, "0123456789");
  std::string target = TarFile("a/big.txt", changed) + TarFile("b/moved.bin", RandomBytes(9000, 22)) +
                       TarFile("a/new.txt", "hello") + TarEnd();
  StringRandomAccess base_ra(base);
  StringWriter sig_bytes;
  BlockSignature::Build(base_ra).Write(sig_bytes);
  StringReader sig_in(sig_bytes.str());
  BlockSignature sig = BlockSignature::Read(sig_in);

  StringReader target_in(target);
  StringWriter delta;
  EncodeOptions options;
  options.zstd_level = 3;
  LayerDeltaStats stats = EncodeLayerDeltaFromBlockSignature(sig, target_in, delta, options);
  EXPECT_EQ(stats.copied_entries, 1u);
  EXPECT_EQ(stats.delta_entries, 1u);
  EXPECT_LT(delta.str().size(), 6000u);

  StringReader delta_in(delta.str());
  StringWriter out;
  ApplyLayerDelta(base_ra, delta_in, out);
  EXPECT_EQ(out.str(), target);
}

TEST(BlockSignature, DamagedSignatureIsCorruption) {
  std::string base = TarFile("x", "content") + TarEnd();
  StringRandomAccess base_ra(base);
  StringWriter sig_bytes;
  BlockSignature::Build(base_ra).Write(sig_bytes);
  std::string truncated = sig_bytes.str().substr(0, sig_bytes.str().size() - 3);
  StringReader in(truncated);
  EXPECT_THAT([&] { BlockSignature::Read(in); }, ThrowsKind(Error::Kind::kCorruption));
  std::string newer = sig_bytes.str();
  newer[4] = 9;
  StringReader in2(newer);
  try {
    BlockSignature::Read(in2);
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), Error::Kind::kUnsupported);
  }
}

}  // namespace
}  // namespace outpost::delta
