#include "delta/code_sweep.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "delta/elf_test_files.h"
#include "delta/x86_decode.h"

namespace outpost::delta {
namespace {

using testing::ElfSample;

// The masked fields of `target` found with the decoding of masked `base` reused against a bsdiff of
// the two masked files are exactly those a full decode finds; `copied` receives how many of the
// fields came from the base's trace.
void ExpectReuseFindsWhatDecodingFinds(const std::string& base, const std::string& target, size_t* copied) {
  ElfLayout old_layout = *ReadElfLayout(base), new_layout = *ReadElfLayout(target);
  CodeTrace trace;
  std::vector<CodeRef> old_refs = FindCodeRefs(base, old_layout, &trace);
  std::vector<CodeRef> new_refs = FindCodeRefs(target, new_layout);
  std::string masked_base = base, masked_target = target;
  MaskCodeRefs(&masked_base, old_refs);
  MaskCodeRefs(&masked_target, new_refs);
  std::vector<BsdiffRegion> runs;
  BsdiffApply(masked_base, BsdiffPackRaw(BsdiffDiff(masked_base, masked_target)), target.size(), &runs);
  std::vector<CodeRef> decoded = FindCodeRefs(masked_target, new_layout);
  KnownCode known{masked_base, &old_layout, &old_refs, &trace, &runs};
  std::vector<CodeRef> reused = FindCodeRefs(masked_target, new_layout, nullptr, &known);
  ASSERT_EQ(reused.size(), decoded.size());
  for (size_t i = 0; i < decoded.size(); ++i) {
    ASSERT_EQ(reused[i].field, decoded[i].field) << i;
    EXPECT_EQ(reused[i].next_ip, decoded[i].next_ip) << i;
    EXPECT_EQ(reused[i].value, decoded[i].value) << i;
    EXPECT_EQ(reused[i].absolute, decoded[i].absolute) << i;
    EXPECT_EQ(reused[i].data, decoded[i].data) << i;
    EXPECT_EQ(reused[i].eh, decoded[i].eh) << i;
  }
  // Count the fields a full decode of the target would not have needed: those of the base's
  // trace moved into the target, through any run.
  *copied = 0;
  for (const BsdiffRegion& run : runs) {
    for (const CodeRef& r : old_refs) {
      bool inside = r.field >= run.old_offset && r.field + 4 <= run.old_offset + run.length && !r.data &&
                    r.eh == EhRole::kNone;
      *copied += inside;
    }
  }
}

TEST(CodeSweep, ReusingTheBasesDecodingFindsTheFieldsADecodeFindsPieNonPieAndStripped) {
  for (const char* kind : {"pie", "nopie", "stripped"}) {
    SCOPED_TRACE(kind);
    size_t copied = 0;
    ExpectReuseFindsWhatDecodingFinds(ElfSample(kind, 1), ElfSample(kind, 2), &copied);
    EXPECT_GT(copied, 100u);  // most of the code is shared: the reuse was exercised
  }
}

TEST(CodeSweep, ReuseAgreesWhereTheTargetsCodeGotBytesThatDoNotDecode) {
  std::string base = ElfSample("pie", 1);
  ElfLayout layout = *ReadElfLayout(base);
  const ElfSection* text = layout.Named(".text");
  ASSERT_NE(text, nullptr);
  // Invalid opcodes (06 is not an instruction in 64-bit mode) and a lone prefix in the middle of
  // the code: the sweep falls out of step there, and must find its way back as a decode would.
  for (uint64_t at : {text->size / 3, text->size / 2, 2 * text->size / 3}) {
    std::string target = base;
    target[text->offset + at] = 0x06;
    target[text->offset + at + 7] = 0x66;
    target[text->offset + at + 40] = 0x0F;
    size_t copied = 0;
    ExpectReuseFindsWhatDecodingFinds(base, target, &copied);
  }
  // and the reverse: a base with such bytes, a target without
  std::string broken = base;
  broken[text->offset + text->size / 2] = 0x06;
  size_t copied = 0;
  ExpectReuseFindsWhatDecodingFinds(broken, base, &copied);
}

TEST(CodeSweep, ATraceRecordsEveryDecodeStartAndTheFailedDecodesOfTheCode) {
  std::string file = ElfSample("nopie", 1);
  ElfLayout layout = *ReadElfLayout(file);
  const ElfSection* text = layout.Named(".text");
  ASSERT_NE(text, nullptr);
  for (uint64_t at = 100; at < 140; at += 3) file[text->offset + at] = 0x06;  // invalid opcodes
  CodeTrace trace;
  FindCodeRefs(file, layout, &trace);
  auto range = std::find_if(trace.ranges.begin(), trace.ranges.end(),
                            [&](const CodeTrace::Range& r) { return r.begin == text->offset; });
  ASSERT_NE(range, trace.ranges.end());
  EXPECT_EQ(range->end, text->offset + text->size);
  EXPECT_EQ(range->address_minus_offset, text->address - text->offset);
  // The same sweep, step by step: every start is visited, no other offset is, and each failed
  // decode is listed with the furthest byte read so far.
  const auto* bytes = reinterpret_cast<const uint8_t*>(file.data());
  size_t failed = 0;
  uint64_t furthest = 0, next = range->begin;
  for (uint64_t pos = range->begin; pos < range->end; ++pos) {
    ASSERT_EQ(trace.Visited(pos), pos == next) << pos;
    if (pos != next) continue;
    X86Insn insn;
    if (DecodeX86(bytes + pos, range->end - pos, &insn)) {
      next = pos + insn.length;
      continue;
    }
    furthest = std::max(furthest, pos + insn.read);
    auto listed = std::find_if(trace.failed.begin(), trace.failed.end(), [&](const auto& f) { return f.first == pos; });
    ASSERT_NE(listed, trace.failed.end()) << pos;
    EXPECT_EQ(listed->second, furthest);
    ++failed;
    next = pos + 1;
  }
  EXPECT_GT(failed, 0u);
}

}  // namespace
}  // namespace outpost::delta
