// Code references of AArch64 ELF files, for the ELF_REF method (delta/elf_refs.h): AArch64
// instructions are 4-byte words at 4-aligned addresses, and a reference is an immediate inside
// one, PC-relative: B and BL (imm26), B.cond, CBZ, CBNZ and LDR (literal) (imm19), TBZ and TBNZ
// (imm14), ADR (imm21, bytes) and ADRP (imm21, 4 KiB pages), and the low 12 bits of an ADRP's
// target in the ADD (immediate) or 64-bit LDR (unsigned offset) right after it that takes the
// ADRP's register. Which words are references depends on opcode and register bits only, never on
// an immediate, so a masked file (immediates zeroed) has the same fields.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "delta/elf_refs.h"

namespace outpost::delta {

// Appends the AArch64 reference fields of file[begin, end), which belongs to the executable
// `section` of `layout`: every word at a 4-aligned address inside the range, classified as above,
// unless it overlaps reserved bytes. Each field is the whole word; its value is the immediate,
// sign-extended (zero-extended for the low-12 forms); next_ip is the word's address (ADRP: its
// page). A low-12 field's target is its ADRP's target plus its value: the predictor pairs them.
void SweepA64(std::string_view file, const ElfLayout& layout, const ElfSection& section, uint64_t begin,
              uint64_t end, std::vector<CodeRef>* out);

// The immediate of `word` as a field of `form` (an AArch64 form).
int32_t A64Immediate(uint32_t word, FieldForm form);

// `word` with its `form` immediate replaced by `value` (within the form's range).
uint32_t A64WithImmediate(uint32_t word, FieldForm form, int32_t value);

}  // namespace outpost::delta
