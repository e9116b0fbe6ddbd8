#include "delta/a64_refs.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>

#include "delta/elf_test_files.h"

namespace outpost::delta {
namespace {

using testing::ElfSample;

uint32_t WordAt(const std::string& file, uint64_t at) {
  uint32_t word;
  std::memcpy(&word, file.data() + at, sizeof(word));
  return word;
}

TEST(A64Refs, ImmediatesReadAndWriteBackForEveryForm) {
  struct Case {
    uint32_t word;
    FieldForm form;
    int32_t value;
  };
  const Case cases[] = {
      {0x97FFFFFF, FieldForm::kA64Branch26, -1},          // bl .-4
      {0x14000010, FieldForm::kA64Branch26, 16},          // b .+64
      {0x54FFFFE1, FieldForm::kA64Branch19, -1},          // b.ne .-4
      {0xB4000040, FieldForm::kA64Branch19, 2},           // cbz x0, .+8
      {0x36F80060, FieldForm::kA64Branch14, -1024 + 3},   // tbz w0, #31, imm14 = 0x2003
      {0x58000041, FieldForm::kA64Branch19, 2},           // ldr x1, .+8
      {0x30000000, FieldForm::kA64Adr, 1},                // adr x0, .+1
      {0xF0FFFFE0, FieldForm::kA64Adrp, -1},              // adrp x0, page - 1
      {0x91001000, FieldForm::kA64Lo12, 4},               // add x0, x0, #4
      {0xF9400821, FieldForm::kA64Lo12x8, 2},             // ldr x1, [x1, #16]
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.word);
    if (c.form == FieldForm::kA64Branch14) continue;  // checked below
    EXPECT_EQ(A64Immediate(c.word, c.form), c.value);
    EXPECT_EQ(A64WithImmediate(c.word, c.form, c.value), c.word);
    uint32_t zeroed = A64WithImmediate(c.word, c.form, 0);
    EXPECT_EQ(A64Immediate(zeroed, c.form), 0);
    EXPECT_EQ(A64WithImmediate(zeroed, c.form, c.value), c.word);
  }
  // tbz w0, #31, .-4: b5 0, b40 11111, imm14 all ones
  uint32_t tbz = 0x36F80000 | (0x3FFFu << 5);
  EXPECT_EQ(A64Immediate(tbz, FieldForm::kA64Branch14), -1);
  EXPECT_EQ(A64WithImmediate(0x36F80000, FieldForm::kA64Branch14, -1), tbz);
}

TEST(A64Refs, FindsCallsBranchesAndAdrpPairsInACompiledProgram) {
  for (const char* kind : {"a64_pie", "a64_nopie", "a64_stripped"}) {
    SCOPED_TRACE(kind);
    std::string file = ElfSample(kind, 1);
    std::optional<ElfLayout> layout = ReadElfLayout(file);
    ASSERT_TRUE(layout);
    EXPECT_EQ(layout->machine, ElfMachine::kAarch64);
    std::vector<CodeRef> refs = FindCodeRefs(file, *layout);
    size_t calls = 0, adrp = 0, paired = 0, in_file = 0, relative = 0;
    for (size_t i = 0; i < refs.size(); ++i) {
      const CodeRef& r = refs[i];
      if (r.form == FieldForm::kLe32) continue;
      ++relative;
      EXPECT_EQ(layout->AddressOf(r.field).value_or(1) % 4, 0u);  // instructions are 4-aligned
      calls += r.form == FieldForm::kA64Branch26 && (WordAt(file, r.field) >> 26) == 0x25;  // BL
      adrp += r.form == FieldForm::kA64Adrp;
      if (r.form == FieldForm::kA64Lo12 || r.form == FieldForm::kA64Lo12x8) {
        ++paired;  // its ADRP: one of the 4 words before it, setting the register it reads
        std::optional<uint64_t> adrp_at = layout->OffsetOf(r.next_ip);
        ASSERT_TRUE(adrp_at);
        EXPECT_LT(*adrp_at, r.field);
        EXPECT_LE(r.field - *adrp_at, 16u);
        EXPECT_TRUE(std::any_of(refs.begin(), refs.begin() + static_cast<ptrdiff_t>(i), [&](const CodeRef& a) {
          return a.field == *adrp_at && a.form == FieldForm::kA64Adrp;
        }));
        EXPECT_EQ(WordAt(file, *adrp_at) & 31, (WordAt(file, r.field) >> 5) & 31);
      } else {
        in_file += layout->SectionAt(r.Target()) != nullptr;
      }
    }
    EXPECT_GT(calls, 200u);  // 90 functions, each calling others
    EXPECT_GT(adrp, 50u);
    EXPECT_GT(paired * 2, adrp);  // most ADRPs have their low 12 bits right after them
    EXPECT_GT(in_file * 10, (relative - paired) * 9);  // nearly every branch lands in the file
  }
}

TEST(A64Refs, AMaskedFileYieldsTheSameFieldsEachZero) {
  for (const char* kind : {"a64_pie", "a64_nopie", "a64_stripped"}) {
    SCOPED_TRACE(kind);
    std::string file = ElfSample(kind, 2);
    ElfLayout layout = *ReadElfLayout(file);
    std::vector<CodeRef> refs = FindCodeRefs(file, layout);
    std::string masked = file;
    MaskCodeRefs(&masked, refs);
    std::vector<CodeRef> again = FindCodeRefs(masked, *ReadElfLayout(masked));
    ASSERT_EQ(again.size(), refs.size());
    for (size_t i = 0; i < refs.size(); ++i) {
      EXPECT_EQ(again[i].field, refs[i].field);
      EXPECT_EQ(again[i].next_ip, refs[i].next_ip);
      EXPECT_EQ(again[i].form, refs[i].form);
      EXPECT_EQ(static_cast<uint32_t>(again[i].value), refs[i].data ? kMaskedPointer : 0u);
    }
  }
}

}  // namespace
}  // namespace outpost::delta
