#include "delta/elf_delta.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "delta/elf_refs.h"
#include "delta/elf_test_files.h"
#include "delta/layer_delta.h"
#include "delta/test_util.h"
#include "tests/support/matchers.h"

namespace outpost::delta {
namespace {

using outpost::testing::ThrowsKind;
using testing::ElfSample;

constexpr int kLevel = 9;

// Encodes v2 of `kind` against v1 and checks the payload rebuilds it; returns the payload.
std::string RoundTrip(const std::string& base, const std::string& target) {
  std::optional<ElfStreams> streams = ElfDiff(base, target);
  EXPECT_TRUE(streams);
  if (!streams) return {};
  std::string payload = ElfPack(*streams, kLevel);
  EXPECT_EQ(ElfApply(base, payload, target.size()), target);
  return payload;
}

TEST(ElfDelta, TwoBuildsOfOneProgramRoundTripSmallerThanBsdiffPieNonPieAndStripped) {
  for (const char* kind : {"pie", "nopie", "stripped", "a64_pie", "a64_nopie", "a64_stripped"}) {
    SCOPED_TRACE(kind);
    std::string base = ElfSample(kind, 1), target = ElfSample(kind, 2);
    std::string payload = RoundTrip(base, target);
    EXPECT_LT(payload.size(), BsdiffEncode(base, target, kLevel).size());
  }
}

// Only x86-64: the AArch64 build of the sample has 90 functions that look alike once masked, and
// the matcher pairs many new ones with other old ones, so only about 64% of its fields are
// predicted exactly. The corpus's arm64 pair measures the model on real code (0.559x bsdiff).
TEST(ElfDelta, MostCorrectionsAreZero) {
  std::optional<ElfStreams> streams = ElfDiff(ElfSample("pie", 1), ElfSample("pie", 2));
  ASSERT_TRUE(streams);
  size_t zeros = std::count(streams->corrections.begin(), streams->corrections.end(), '\0');
  EXPECT_GT(zeros * 10, streams->corrections.size() * 9);
}

TEST(ElfDelta, AFileWithCodeThatDoesNotDecodeStillRoundTrips) {
  std::string base = ElfSample("nopie", 1), target = ElfSample("nopie", 2);
  ElfLayout layout = *ReadElfLayout(target);
  const ElfSection* text = layout.Named(".text");
  ASSERT_NE(text, nullptr);
  // Bytes no decoder makes sense of in the middle of the code, and a call cut off at its end.
  target.replace(text->offset + text->size / 2, 3000, testing::RandomBytes(3000, 7));
  target.replace(text->offset + text->size - 3, 3, "\xE8\x01\x02");
  RoundTrip(base, target);
}

TEST(ElfDelta, FilesItDoesNotModelAreDeclined) {
  std::string elf = ElfSample("pie", 1), arm = ElfSample("a64_pie", 1);
  EXPECT_FALSE(ElfDiff(elf, arm));  // two instruction sets
  EXPECT_FALSE(ElfDiff(arm, elf));
  std::string riscv = elf;
  riscv[18] = static_cast<char>(243);  // EM_RISCV
  EXPECT_FALSE(ElfDiff(riscv, riscv));
  EXPECT_FALSE(ElfDiff(elf, testing::RandomBytes(elf.size(), 3)));
}

TEST(ElfDelta, AMutatedCorrectionStreamNeverYieldsTheTarget) {
  for (const char* kind : {"pie", "a64_pie"}) {
    SCOPED_TRACE(kind);
    std::string base = ElfSample(kind, 1), target = ElfSample(kind, 2);
    std::optional<ElfStreams> streams = ElfDiff(base, target);
    ASSERT_TRUE(streams);
    for (size_t at : {size_t{0}, streams->corrections.size() / 2, streams->corrections.size() - 1}) {
      ElfStreams mutated = *streams;
      mutated.corrections[at] = static_cast<char>(mutated.corrections[at] ^ 0x02);
      std::string payload = ElfPack(mutated, kLevel);
      try {
        EXPECT_NE(ElfApply(base, payload, target.size()), target);
      } catch (const Error& e) {
        EXPECT_EQ(e.kind(), Error::Kind::kCorruption);
      }
    }
  }
}

TEST(ElfDelta, MalformedPayloadsAreCorruption) {
  std::string base = ElfSample("pie", 1), target = ElfSample("pie", 2);
  std::string payload = ElfPack(*ElfDiff(base, target), kLevel);
  auto apply = [&](std::string p) { return [&base, &target, p] { ElfApply(base, p, target.size()); }; };
  EXPECT_THAT(apply(""), ThrowsKind(Error::Kind::kCorruption));
  EXPECT_THAT(apply("\x02" + payload.substr(1)), ThrowsKind(Error::Kind::kCorruption));  // AArch64's, on x86-64
  EXPECT_THAT(apply("\x03" + payload.substr(1)), ThrowsKind(Error::Kind::kCorruption));  // unknown model
  EXPECT_THAT(apply(payload.substr(0, payload.size() - 3)), ThrowsKind(Error::Kind::kCorruption));
  EXPECT_THAT([&] { ElfApply(testing::RandomBytes(base.size(), 1), payload, target.size()); },
              ThrowsKind(Error::Kind::kCorruption));
}

TEST(ElfDelta, ALayerDeltaPicksTheMethodForChangedElfFilesAndTheBundleRoundTrips) {
  std::string old_lib = ElfSample("pie", 1), new_lib = ElfSample("pie", 2);
  std::string base = testing::TarFile("usr/bin/sample", old_lib) + testing::TarEnd();
  std::string target = testing::TarFile("usr/bin/sample", new_lib) + testing::TarEnd();
  auto encode = [&](bool model) {
    testing::StringRandomAccess base_ra(base);
    StringReader in(target);
    StringWriter out;
    EncodeOptions options;
    options.model_elf_refs = model;
    LayerDeltaStats stats = EncodeLayerDelta(base_ra, in, out, options);
    EXPECT_EQ(testing::ApplyLayer(base, out.str()), target);
    return std::make_pair(out.str(), stats);
  };
  auto [with, with_stats] = encode(true);
  auto [without, without_stats] = encode(false);
  EXPECT_EQ(with_stats.method_target_bytes[static_cast<int>(Method::kElfRef)], new_lib.size());
  EXPECT_EQ(without_stats.method_target_bytes[static_cast<int>(Method::kElfRef)], 0u);
  EXPECT_LT(with.size(), without.size());
}

}  // namespace
}  // namespace outpost::delta
