// An x86-64 instruction length decoder for the ELF_REF method (delta/elf_refs.h): table-driven,
// it finds only what locating operand fields needs (length, displacement, first immediate), some
// twenty times faster than a full decoder. Its decisions read prefixes, opcode, ModRM and SIB
// bytes only, never a displacement or an immediate, so zeroing those fields moves no instruction
// boundary. The rules are fixed by the layer-delta format (docs/layer-delta-format.md,
// "ELF_REF payload"): a change to them is a new reference model.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>

namespace outpost::delta {

// One decoded instruction: its length and where its displacement and first immediate are.
struct X86Insn {
  uint8_t length = 0;
  uint8_t disp_offset = 0, disp_size = 0;  // disp_size 0: no displacement
  uint8_t imm_offset = 0, imm_size = 0;    // imm_size 0: no immediate
  bool rip_relative = false;  // the displacement is RIP-relative (ModRM mod 00, r/m 101)
  bool imm_relative = false;  // the immediate is a branch displacement (E8, E9, 0F 80..8F, C7 F8)
  // The bytes from code[0] on whose values the decision may depend: `length` when an instruction
  // decodes; when none does, the opcode bytes for an invalid opcode, else all it was given (at
  // most kMaxX86Length).
  uint8_t read = 0;
};

// The longest x86-64 instruction, and so the most bytes DecodeX86 reads.
inline constexpr size_t kMaxX86Length = 15;

namespace x86_detail {

// What kForms says about an instruction of the one- or two-byte map with no prefix other than
// one REX: its displacement's size (ModRM's; bits 0..2) and immediate's size without REX.W (bits
// 3..5), where both begin counted from the opcode (bits 6..8), and flags. kFormSibBase: the
// displacement is 4 bytes more when the SIB byte's base is 5 (ModRM mod 00). kFormWide: REX.W
// makes the immediate 4 bytes more (B8..BF).
inline constexpr unsigned kFormImmShift = 3, kFormFieldsAtShift = 6;
inline constexpr uint16_t kFormRip = 1 << 9, kFormImmRelative = 1 << 10, kFormSibBase = 1 << 11,
                          kFormWide = 1 << 12, kFormMemory = 1 << 13, kFormSlow = 1 << 15;

// Per opcode (0..255: one-byte map; 256..511: the byte after 0F) times 256, plus the byte after
// the opcode as a ModRM byte: the kForm* entry; kFormSlow for what DecodeAny decodes: prefixes
// other than one REX, the VEX, EVEX and XOP escapes, 0F 38 and 0F 3A, invalid opcodes, MOV to or
// from CR/DR, A0..A3's address and ENTER.
extern const std::array<uint16_t, 512 * 256> kForms;

// Decodes any instruction, step by step (DecodeX86's contract).
bool DecodeAny(const uint8_t* code, size_t size, X86Insn* out);

}  // namespace x86_detail

// Decodes the 64-bit mode instruction starting at code[0] with at most `size` bytes. False when
// none starts there: an opcode invalid in 64-bit mode, more than 15 bytes, or cut off by `size`;
// then only out->read is set.
//
// Inline for the sweep, which runs at its speed: compiled code's instructions (96% of them: no
// prefix but one REX, given 15 bytes) take one load of 8 bytes, from which the opcode and the
// bytes a ModRM and a SIB would be are shifted out, and one table lookup, with selects in place
// of branches, which mixed code mispredicts; each instruction's start waits for the one before.
inline bool DecodeX86(const uint8_t* code, size_t size, X86Insn* out) {
  namespace d = x86_detail;
  // The step-by-step decoder writes to a copy: `out` then need not live in memory.
  auto any = [&] {
    X86Insn insn;
    bool decoded = d::DecodeAny(code, size, &insn);
    *out = insn;
    return decoded;
  };
  if (size < kMaxX86Length) return any();
  uint64_t word;
  std::memcpy(&word, code, sizeof(word));
  unsigned rex = (word & 0xF0) == 0x40 ? 1 : 0;
  unsigned rex_w = rex & static_cast<unsigned>(word >> 3);
  uint64_t from_opcode = word >> (8 * rex);
  unsigned two = (from_opcode & 0xFF) == 0x0F ? 1 : 0;
  uint64_t from_map = from_opcode >> (8 * two);  // the opcode, or the byte after 0F
  unsigned entry = d::kForms[(two << 16) | (from_map & 0xFFFF) >> 8 | (from_map & 0xFF) << 8];
  if ((entry & d::kFormSlow) != 0) return any();
  unsigned sib_base = ((entry & d::kFormSibBase) != 0 ? 1 : 0) & (((from_map >> 16) & 7) == 5 ? 1 : 0);
  unsigned disp = (entry & 7) | sib_base << 2;
  unsigned imm = ((entry >> d::kFormImmShift) & 7) + (((entry & d::kFormWide) != 0 ? 4 : 0) & (0u - rex_w));
  unsigned fields_at = rex + ((entry >> d::kFormFieldsAtShift) & 7);
  X86Insn insn;
  insn.disp_offset = static_cast<uint8_t>((entry & d::kFormMemory) != 0 ? fields_at : 0);
  insn.disp_size = static_cast<uint8_t>(disp);
  insn.rip_relative = (entry & d::kFormRip) != 0;
  insn.imm_offset = static_cast<uint8_t>(imm != 0 ? fields_at + disp : 0);
  insn.imm_size = static_cast<uint8_t>(imm);
  insn.imm_relative = (entry & d::kFormImmRelative) != 0;
  insn.length = insn.read = static_cast<uint8_t>(fields_at + disp + imm);
  *out = insn;
  return true;
}

}  // namespace outpost::delta
