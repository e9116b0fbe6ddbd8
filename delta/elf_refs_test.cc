#include "delta/elf_refs.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <iterator>

#include "delta/elf_test_files.h"
#include "delta/test_util.h"

namespace outpost::delta {
namespace {

using testing::ElfSample;

TEST(ElfRefs, ReadsTheSectionsOfAnX86_64ExecutableAndDeclinesOtherBytes) {
  std::string file = ElfSample("pie", 1);
  std::optional<ElfLayout> layout = ReadElfLayout(file);
  ASSERT_TRUE(layout);
  const ElfSection* text = layout->Named(".text");
  ASSERT_NE(text, nullptr);
  EXPECT_TRUE(text->executable && text->in_file && text->allocated);
  EXPECT_EQ(layout->OffsetOf(text->address + 10), text->offset + 10);
  EXPECT_EQ(layout->AddressOf(text->offset + 10), text->address + 10);
  EXPECT_EQ(layout->SectionAt(layout->Named(".bss")->address), layout->Named(".bss"));
  EXPECT_FALSE(layout->OffsetOf(layout->Named(".bss")->address));  // no file bytes
  EXPECT_FALSE(ReadElfLayout(testing::RandomBytes(4096, 5)));
  std::string arm = file;
  arm[18] = static_cast<char>(183);  // EM_AARCH64: modelled too
  EXPECT_EQ(ReadElfLayout(arm)->machine, ElfMachine::kAarch64);
  std::string riscv = file;
  riscv[18] = static_cast<char>(243);  // EM_RISCV: not modelled
  EXPECT_FALSE(ReadElfLayout(riscv));
  std::string no_headers = file;
  no_headers[0x3c] = no_headers[0x3d] = 0;  // no section headers (sstrip)
  EXPECT_FALSE(ReadElfLayout(no_headers));
}

TEST(ElfRefs, LookupsGivenAHintFindWhatLookupsWithoutOneFind) {
  std::string file = ElfSample("pie", 1);
  ElfLayout layout = *ReadElfLayout(file);
  ElfLayout::Hint hint;
  size_t hits = 0;
  // Every 7th byte from before the first section to past the end, in an order that jumps
  // between sections as the predictor's targets do: the hint is right for some, wrong for others.
  for (uint64_t step = 0; step < 2 * file.size(); step += 7) {
    uint64_t at = step % 2 == 0 ? step / 2 : file.size() - step / 2;
    EXPECT_EQ(layout.SectionAt(at, &hint), layout.SectionAt(at)) << at;
    EXPECT_EQ(layout.OffsetOf(at, &hint), layout.OffsetOf(at)) << at;
    EXPECT_EQ(layout.AddressOf(at, &hint), layout.AddressOf(at)) << at;
    hits += layout.AddressOf(at).has_value() ? 1 : 0;
  }
  EXPECT_GT(hits, file.size() / 20);  // the walk went through mapped bytes, not only gaps
}

TEST(ElfRefs, FindsCallsBranchesAndRipRelativeOperandsPointingIntoTheFile) {
  std::string file = ElfSample("nopie", 1);
  ElfLayout layout = *ReadElfLayout(file);
  std::vector<CodeRef> refs = FindCodeRefs(file, layout);
  ASSERT_GT(refs.size(), 400u);  // 90 functions, each with calls and global loads
  EXPECT_TRUE(std::is_sorted(refs.begin(), refs.end(), [](auto& a, auto& b) { return a.field < b.field; }));
  size_t calls = 0, relative = 0, resolved = 0, absolute_addresses = 0;
  for (const CodeRef& r : refs) {
    if (static_cast<uint8_t>(file[r.field - 1]) == 0xE8) ++calls;
    bool in_file = layout.SectionAt(r.Target()) != nullptr;
    relative += !r.absolute;
    resolved += !r.absolute && in_file;
    absolute_addresses += r.absolute && in_file;
  }
  EXPECT_GT(calls, 200u);
  EXPECT_EQ(resolved, relative);  // every relative target lies in a section of the file
  EXPECT_GT(absolute_addresses, 50u);  // non-PIE: global addresses as imm32 and disp32
  // and its data sections' pointers: elf_sample.c's table of 90 functions
  size_t data_pointers = std::count_if(refs.begin(), refs.end(), [&](const CodeRef& r) {
    return r.data && layout.SectionAt(layout.AddressOf(r.field).value_or(0)) != nullptr &&
           !layout.SectionAt(*layout.AddressOf(r.field))->executable;
  });
  EXPECT_GE(data_pointers, 90u);
}

TEST(ElfRefs, AbsoluteCodeFieldsAreReferencesOnlyInAFixedAddressExecutable) {
  for (const char* kind : {"pie", "stripped"}) {
    std::string file = ElfSample(kind, 1);
    ElfLayout layout = *ReadElfLayout(file);
    EXPECT_FALSE(layout.fixed_address);
    std::vector<CodeRef> refs = FindCodeRefs(file, layout);
    EXPECT_TRUE(std::none_of(refs.begin(), refs.end(), [](const CodeRef& r) { return r.absolute && !r.data; }))
        << kind;
  }
  EXPECT_TRUE(ReadElfLayout(ElfSample("nopie", 1))->fixed_address);
}

// The fields of `file` masked are those of `file`, each now zero.
void ExpectMaskedFieldsAreTheSame(const std::string& file) {
  ElfLayout layout = *ReadElfLayout(file);
  std::vector<CodeRef> refs = FindCodeRefs(file, layout);
  std::string masked = file;
  MaskCodeRefs(&masked, refs);
  std::optional<ElfLayout> again = ReadElfLayout(masked);
  ASSERT_TRUE(again);
  std::vector<CodeRef> masked_refs = FindCodeRefs(masked, *again);
  ASSERT_EQ(masked_refs.size(), refs.size());
  for (size_t i = 0; i < refs.size(); ++i) {
    EXPECT_EQ(masked_refs[i].field, refs[i].field);
    EXPECT_EQ(masked_refs[i].next_ip, refs[i].next_ip);
    EXPECT_EQ(masked_refs[i].data, refs[i].data);
    EXPECT_EQ(masked_refs[i].eh, refs[i].eh);
    EXPECT_EQ(static_cast<uint32_t>(masked_refs[i].value), refs[i].data ? kMaskedPointer : 0u);
  }
}

TEST(ElfRefs, AMaskedFileYieldsTheSameFieldsAndKeepsItsHeaders) {
  for (const char* kind : {"pie", "stripped", "nopie"}) {
    SCOPED_TRACE(kind);
    ExpectMaskedFieldsAreTheSame(ElfSample(kind, 2));
  }
}

TEST(ElfRefs, EhFrameHdrEntriesAreReferencesToFunctionsAndTheirUnwindRecords) {
  std::string file = ElfSample("pie", 2);
  ElfLayout layout = *ReadElfLayout(file);
  const ElfSection* hdr = layout.Named(".eh_frame_hdr");
  ASSERT_NE(hdr, nullptr);
  std::vector<CodeRef> refs = FindCodeRefs(file, layout);
  size_t to_code = 0, to_unwind = 0, in_hdr = 0;
  for (const CodeRef& r : refs) {
    if (r.field < hdr->offset || r.field >= hdr->offset + hdr->size) continue;
    ++in_hdr;
    const ElfSection* target = layout.SectionAt(r.Target());
    ASSERT_NE(target, nullptr);
    to_code += target->executable;
    to_unwind += target->name == ".eh_frame";
  }
  EXPECT_GT(to_code, 90u);                // a table entry per function
  EXPECT_EQ(to_unwind, in_hdr - to_code);  // and its FDE (eh_frame_ptr too)
}

// The data pointer fields of `refs` inside `section` (null: none).
std::vector<CodeRef> PointersIn(const std::vector<CodeRef>& refs, const ElfSection* section) {
  std::vector<CodeRef> in;
  if (section == nullptr) return in;
  std::copy_if(refs.begin(), refs.end(), std::back_inserter(in), [&](const CodeRef& r) {
    return r.data && r.field >= section->offset && r.field < section->offset + section->size;
  });
  return in;
}

TEST(ElfRefs, APieFilesInitArrayDataRelRoAndRelativeRelocationsArePointers) {
  std::string file = ElfSample("pie", 2);
  ElfLayout layout = *ReadElfLayout(file);
  std::vector<CodeRef> refs = FindCodeRefs(file, layout);
  std::vector<CodeRef> init = PointersIn(refs, layout.Named(".init_array"));
  ASSERT_FALSE(init.empty());
  EXPECT_TRUE(layout.SectionAt(init[0].Target())->executable);  // a constructor
  EXPECT_GE(PointersIn(refs, layout.Named(".data.rel.ro")).size(), 90u);  // elf_sample.c's table
  const ElfSection* rela = layout.Named(".rela.dyn");
  ASSERT_NE(rela, nullptr);
  size_t relative = 0, found = 0;
  std::vector<CodeRef> pointers = PointersIn(refs, rela);
  for (uint64_t entry = rela->offset; entry + 24 <= rela->offset + rela->size; entry += 24) {
    if (file.substr(entry + 8, 8) != std::string("\x08\0\0\0\0\0\0\0", 8)) continue;  // R_X86_64_RELATIVE
    ++relative;
    auto is_field = [&](uint64_t at) {
      return std::any_of(pointers.begin(), pointers.end(), [&](const CodeRef& r) { return r.field == at; });
    };
    found += is_field(entry) && is_field(entry + 16) && !is_field(entry + 8);  // r_offset, r_addend; not r_info
  }
  EXPECT_GE(relative, 90u);
  EXPECT_EQ(found, relative);
}

TEST(ElfRefs, EachFdeStartIsAReferenceAndTheEhFrameHdrTableListsThemByFunction) {
  std::string file = ElfSample("pie", 2);
  ElfLayout layout = *ReadElfLayout(file);
  std::vector<CodeRef> refs = FindCodeRefs(file, layout);
  std::vector<std::pair<uint64_t, uint64_t>> fdes;  // (function, FDE address)
  std::vector<uint64_t> table;
  for (const CodeRef& r : refs) {
    if (r.eh == EhRole::kFdeBegin) {
      EXPECT_TRUE(layout.SectionAt(r.Target())->executable);
      fdes.emplace_back(r.Target(), r.next_ip - 8);
    }
    if (r.eh == EhRole::kHdrLocation || r.eh == EhRole::kHdrFde) table.push_back(r.Target());
  }
  ASSERT_GT(fdes.size(), 90u);
  std::sort(fdes.begin(), fdes.end());
  std::vector<uint64_t> expected;
  for (const auto& [function, fde] : fdes) expected.insert(expected.end(), {function, fde});
  EXPECT_EQ(table, expected);
}

TEST(ElfRefs, BytesThatDoNotDecodeAreSkippedOneAtATime) {
  std::string file = ElfSample("pie", 1);
  ElfLayout layout = *ReadElfLayout(file);
  const ElfSection* text = layout.Named(".text");
  // 0x06 (PUSH ES) does not exist in 64-bit mode; then a call whose field must still be found.
  std::string code = std::string(7, '\x06') + std::string("\xE8\x10\x00\x00\x00", 5);
  file.replace(text->offset, code.size(), code);
  std::vector<CodeRef> refs = FindCodeRefs(file, layout);
  refs.erase(refs.begin(), std::find_if(refs.begin(), refs.end(), [&](auto& r) { return r.field >= text->offset; }));
  ASSERT_FALSE(refs.empty());
  EXPECT_EQ(refs[0].field, text->offset + 8);
  EXPECT_EQ(refs[0].next_ip, text->address + 12);
  EXPECT_EQ(refs[0].Target(), text->address + 12 + 0x10);
}

TEST(ElfRefs, AFieldInBytesAFailedDecodeReadIsNotAReference) {
  std::string file = ElfSample("nopie", 1);  // fixed addresses: an imm32 is a field
  ElfLayout layout = *ReadElfLayout(file);
  const ElfSection* text = layout.Named(".text");
  // The section ends with NOPs, then an EVEX instruction cut off by the section's end, which
  // holds `add eax, imm32` one byte on. Masked, that field would let the EVEX one decode.
  std::string code = std::string(16, '\x90') + std::string("\x62\x05\x9E\x15\xFF\x62", 6);
  uint64_t at = text->offset + text->size - code.size();
  file.replace(at, code.size(), code);
  std::vector<CodeRef> refs = FindCodeRefs(file, layout);
  EXPECT_TRUE(std::none_of(refs.begin(), refs.end(), [&](auto& r) { return r.field == at + 18; }));
  ExpectMaskedFieldsAreTheSame(file);
}

}  // namespace
}  // namespace outpost::delta
