// An x86-64 instruction length decoder for the ELF_REF method (delta/elf_refs.h): table-driven,
// it finds only what locating operand fields needs (length, displacement, first immediate), some
// twenty times faster than a full decoder. Its decisions read prefixes, opcode, ModRM and SIB
// bytes only, never a displacement or an immediate, so zeroing those fields moves no instruction
// boundary. The rules are fixed by the layer-delta format (docs/layer-delta-format.md,
// "ELF_REF payload"): a change to them is a new reference model.
#pragma once

#include <cstddef>
#include <cstdint>

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

// Decodes the 64-bit mode instruction starting at code[0] with at most `size` bytes. False when
// none starts there: an opcode invalid in 64-bit mode, more than 15 bytes, or cut off by `size`;
// then only out->read is set.
bool DecodeX86(const uint8_t* code, size_t size, X86Insn* out);

}  // namespace outpost::delta
