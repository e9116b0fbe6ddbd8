// Code references of x86-64 ELF files, for the ELF_REF method (delta/elf_delta.h): the 4-byte
// operand fields found by decoding the executable sections (delta/x86_decode.h), as (field
// offset, instruction end) pairs: rel32 operands of branches and calls and RIP-relative disp32
// fields (relative), and in an executable loaded at fixed addresses (ET_EXEC, non-PIE) also the
// other disp32 and imm32 fields (absolute: addresses of its sections, or constants); the
// pointers in its data sections (8-byte aligned words holding an address of one of its sections,
// 4 bytes of field: the high half must be zero), in every allocated one of a fixed-address file
// and in the named pointer sections (.data.rel.ro, .rela.dyn, .got, ...) of the others; and the
// unwind tables' fields (.eh_frame_hdr's table, .eh_frame's FDE pc_begin).
//
// The rules (docs/layer-delta-format.md, "ELF_REF payload") depend only on bytes a masked file
// keeps: the ELF header, the section headers and the section name table choose the sections, and
// each executable section is decoded from its start, one instruction after another; where no
// instruction decodes (data in code, or bytes cut off by the section's end) the sweep moves on
// by one byte, and no field overlaps the bytes such a failed decode read. Zeroing a
// reference field then changes no instruction's length and no decode's failure, so a masked file
// yields the same fields as the original.
#pragma once

#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace outpost::delta {

// One section of an ELF file: its name, where it is loaded and where its bytes are in the file.
struct ElfSection {
  std::string name;
  uint64_t address = 0, offset = 0, size = 0;
  bool allocated = false;   // SHF_ALLOC: part of the loaded image
  bool in_file = false;     // its bytes are in the file (not SHT_NOBITS)
  bool executable = false;  // SHF_EXECINSTR
};

// The little-endian T at `bytes`[at] (inside it): how ELF data and both modelled instruction sets
// store numbers, as the host does.
template <typename T>
T LoadLe(std::string_view bytes, uint64_t at) {
  T v;
  std::memcpy(&v, bytes.data() + at, sizeof(v));
  return v;
}

// The instruction sets whose code the method models (e_machine 62 and 183).
enum class ElfMachine : uint8_t { kX86_64, kAarch64 };

// The sections of an ELF file, and the address <-> file offset mapping they give.
struct ElfLayout {
  ElfMachine machine = ElfMachine::kX86_64;
  std::vector<ElfSection> sections;  // in section header order
  // File ranges the reference fields must not touch (headers and the name table): the bytes
  // that choose the sections.
  std::vector<std::pair<uint64_t, uint64_t>> reserved;
  bool fixed_address = false;  // ET_EXEC: absolute fields are references too

  // Where the lookups below found their last span, for callers whose lookups mostly land where
  // the one before did: given one, a lookup tries that span first and updates it.
  struct Hint {
    size_t by_address = 0, by_offset = 0;
  };

  // The first allocated section (in header order) containing `address` (null: none).
  const ElfSection* SectionAt(uint64_t address, Hint* hint = nullptr) const;
  // The first section called `name` (null: none).
  const ElfSection* Named(std::string_view name) const;
  // The file offset of `address` when SectionAt(address) has its bytes in the file.
  std::optional<uint64_t> OffsetOf(uint64_t address, Hint* hint = nullptr) const;
  // The address of file offset `offset` in the first allocated section with file bytes holding it.
  std::optional<uint64_t> AddressOf(uint64_t offset, Hint* hint = nullptr) const;
  // True when file[at, +size) overlaps `reserved`.
  bool TouchesReserved(uint64_t at, uint64_t size) const;

  // A range of addresses (or file offsets) and the section the lookups above find for each of
  // them; ReadElfLayout fills both tables, sorted and disjoint, so a lookup is a binary search.
  struct Span {
    uint64_t begin = 0, end = 0;
    size_t section = 0;  // index in `sections`
  };
  std::vector<Span> by_address, by_offset;
};

// The layout of `file` when it is a little-endian ELF64 x86-64 or AArch64 file whose section
// headers and name table lie inside it; nullopt for anything else (the method does not apply).
std::optional<ElfLayout> ReadElfLayout(std::string_view file);

// What an unwind-table field is, for the predictor: an .eh_frame_hdr table entry's function
// address or FDE address, or an .eh_frame FDE's pc_begin (none: any other field).
enum class EhRole : uint8_t { kNone, kHdrLocation, kHdrFde, kFdeBegin };

// How a reference field's value sits in its 4 bytes.
enum class FieldForm : uint8_t {
  kLe32,         // all 4 bytes, a little-endian int32: x86-64 operands, data pointers, unwind tables
  kA64Branch26,  // B, BL: bits 0..25, in instructions (4 bytes)
  kA64Branch19,  // B.cond, CBZ, CBNZ, LDR (literal): bits 5..23, in instructions
  kA64Branch14,  // TBZ, TBNZ: bits 5..18, in instructions
  kA64Adr,       // ADR: bits 5..23 then 29..30 (high, low), in bytes
  kA64Adrp,      // ADRP: as ADR, in 4 KiB pages from the instruction's page
  kA64Lo12,      // ADD (immediate) after an ADRP: bits 10..21, bytes into the ADRP's page
  kA64Lo12x8,    // LDR (64-bit, unsigned offset) after an ADRP: bits 10..21, in 8-byte units
};

// A field form's value: `bits` wide, signed or not, one unit worth 2^shift bytes.
struct FieldShape {
  uint8_t bits;
  bool is_signed;
  uint8_t shift;
};

inline constexpr FieldShape kFieldShapes[] = {{32, true, 0},  {26, true, 2},  {19, true, 2},  {14, true, 2},
                                              {21, true, 0},  {21, true, 12}, {12, false, 0}, {12, false, 3}};

inline const FieldShape& ShapeOf(FieldForm form) { return kFieldShapes[static_cast<uint8_t>(form)]; }

// `v` as a value a field of `form` holds: modulo 2^bits, sign-extended when the form is signed.
inline int32_t WrapToField(FieldForm form, int64_t v) {
  const FieldShape& shape = ShapeOf(form);
  uint64_t low = static_cast<uint64_t>(v) & ((uint64_t{1} << shape.bits) - 1);
  if (shape.is_signed && (low >> (shape.bits - 1)) != 0) low -= uint64_t{1} << shape.bits;
  return static_cast<int32_t>(static_cast<int64_t>(low));
}

// A reference: a field in 4 bytes of the file, relative to an address or absolute.
struct CodeRef {
  uint64_t field = 0;    // file offset of the field
  uint64_t next_ip = 0;  // what a relative field counts from: x86-64, the end of its
                         // instruction; AArch64, the instruction (ADRP: its page; a low-12 form
                         // counts from its ADRP's target, which Target() does not know)
  int32_t value = 0;     // the field as found (FieldForm's value)
  bool absolute = false;
  bool data = false;     // a pointer in a data section (absolute; next_ip is its own address)
  EhRole eh = EhRole::kNone;
  FieldForm form = FieldForm::kLe32;

  // The address (or constant) the field names: its value in bytes, plus next_ip when relative.
  uint64_t Target() const {
    uint64_t bytes = static_cast<uint64_t>(static_cast<int64_t>(value)) << ShapeOf(form).shift;
    return (absolute ? 0 : next_ip) + bytes;
  }
};

// How many bytes of the file every reference field takes.
inline constexpr uint64_t kFieldBytes = 4;

// The value a masked data pointer field holds.
inline constexpr uint32_t kMaskedPointer = 0xFFFFFFFF;

struct CodeTrace;
struct KnownCode;

// Every reference field of `file`'s executable, pointer and unwind table sections (rules above),
// in file order. Fields never overlap each other or `layout.reserved`. Records the decoding of
// the executable sections in `trace` when given, and reuses that of a known file when `known` is
// given (delta/code_sweep.h); neither changes the result.
std::vector<CodeRef> FindCodeRefs(std::string_view file, const ElfLayout& layout, CodeTrace* trace = nullptr,
                                  const KnownCode* known = nullptr);

// The value a masked field holds: zero for code fields, kMaskedPointer for data pointers (which
// still reads as a pointer then).
inline int32_t MaskedValue(const CodeRef& ref) { return ref.data ? static_cast<int32_t>(kMaskedPointer) : 0; }

// Masks the fields of `refs` in `file` (each inside it, as FindCodeRefs returns them): each takes
// its MaskedValue.
void MaskCodeRefs(std::string* file, const std::vector<CodeRef>& refs);

// FieldWord for a field of an AArch64 form.
uint32_t A64FieldWord(std::string_view file, const CodeRef& ref, int32_t value);

// The 4 bytes (little-endian) of ref's field in `file` once it holds `value` (a value of
// ref.form): the value itself, or for an AArch64 form the instruction word with it.
inline uint32_t FieldWord(std::string_view file, const CodeRef& ref, int32_t value) {
  return ref.form == FieldForm::kLe32 ? static_cast<uint32_t>(value) : A64FieldWord(file, ref, value);
}

// Writes `value` (a value of ref.form) into ref's field of `file`.
void WriteField(std::string* file, const CodeRef& ref, int32_t value);

}  // namespace outpost::delta
