#include "delta/elf_refs.h"

#include <Zydis/Zydis.h>

#include <algorithm>
#include <cstring>

namespace outpost::delta {
namespace {

constexpr uint64_t kElfHeaderBytes = 64;
constexpr uint64_t kSectionHeaderBytes = 64;
constexpr uint16_t kMachineX86_64 = 62;
constexpr uint32_t kTypeNull = 0, kTypeNoBits = 8;
constexpr uint64_t kFlagAlloc = 0x2, kFlagExec = 0x4;
constexpr uint64_t kFieldBytes = 4;

template <typename T>
T Get(std::string_view bytes, uint64_t at) {
  T v;
  std::memcpy(&v, bytes.data() + at, sizeof(v));  // ELF data here is little-endian, as is x86-64
  return v;
}

// True when [offset, +size) lies inside a file of `file_size` bytes.
bool Inside(uint64_t offset, uint64_t size, uint64_t file_size) {
  return offset <= file_size && size <= file_size - offset;
}

// The NUL-terminated name at `at` of the name table `names` (empty when out of range).
std::string NameAt(std::string_view names, uint32_t at) {
  if (at >= names.size()) return {};
  std::string_view rest = names.substr(at);
  return std::string(rest.substr(0, rest.find('\0')));
}

bool Overlaps(uint64_t at, uint64_t size, const std::vector<std::pair<uint64_t, uint64_t>>& ranges) {
  return std::any_of(ranges.begin(), ranges.end(), [&](const auto& r) {
    return at < r.first + r.second && r.first < at + size;
  });
}

// The file offset of the 4-byte reference field of `insn` (relative to its start), if it has
// one: a 32-bit relative immediate (E8, E9, 0F 8x, ...) or a RIP-relative disp32 (ModRM mod 00,
// r/m 101, which also covers FF 15 and FF 25).
std::optional<uint64_t> FieldOf(const ZydisDecodedInstruction& insn) {
  const auto& imm = insn.raw.imm[0];
  if (imm.is_relative && imm.size == 32) return imm.offset;
  bool rip = (insn.attributes & ZYDIS_ATTRIB_HAS_MODRM) != 0 && insn.raw.modrm.mod == 0 &&
             insn.raw.modrm.rm == 5;
  if (rip && insn.raw.disp.size == 32) return insn.raw.disp.offset;
  return std::nullopt;
}

// Appends the references of file[begin, end), which belongs to `section`.
void Sweep(std::string_view file, const ElfSection& section, uint64_t begin, uint64_t end,
           const std::vector<std::pair<uint64_t, uint64_t>>& reserved, std::vector<CodeRef>* out) {
  ZydisDecoder decoder;
  ZydisDecoderInit(&decoder, ZYDIS_MACHINE_MODE_LONG_64, ZYDIS_STACK_WIDTH_64);
  // Lengths and raw fields are all the sweep needs: no operand semantics (several times faster).
  ZydisDecoderEnableMode(&decoder, ZYDIS_DECODER_MODE_MINIMAL, ZYAN_TRUE);
  ZydisDecodedInstruction insn;
  for (uint64_t pos = begin; pos < end;) {
    if (!ZYAN_SUCCESS(ZydisDecoderDecodeInstruction(&decoder, nullptr, file.data() + pos, end - pos, &insn))) {
      ++pos;  // no instruction here: the next byte may start one
      continue;
    }
    std::optional<uint64_t> field = FieldOf(insn);
    uint64_t next = pos + insn.length;
    if (field && !Overlaps(pos + *field, kFieldBytes, reserved)) {
      int32_t value = Get<int32_t>(file, pos + *field);
      out->push_back(CodeRef{pos + *field, section.address + (next - section.offset), value});
    }
    pos = next;
  }
}

}  // namespace

const ElfSection* ElfLayout::SectionAt(uint64_t address) const {
  for (const ElfSection& s : sections) {
    if (s.allocated && address >= s.address && address - s.address < s.size) return &s;
  }
  return nullptr;
}

const ElfSection* ElfLayout::Named(std::string_view name) const {
  for (const ElfSection& s : sections) {
    if (s.name == name) return &s;
  }
  return nullptr;
}

std::optional<uint64_t> ElfLayout::OffsetOf(uint64_t address) const {
  const ElfSection* s = SectionAt(address);
  if (s == nullptr || !s->in_file) return std::nullopt;
  return s->offset + (address - s->address);
}

std::optional<uint64_t> ElfLayout::AddressOf(uint64_t offset) const {
  for (const ElfSection& s : sections) {
    if (s.allocated && s.in_file && offset >= s.offset && offset - s.offset < s.size) {
      return s.address + (offset - s.offset);
    }
  }
  return std::nullopt;
}

std::optional<ElfLayout> ReadElfLayout(std::string_view file) {
  if (file.size() < kElfHeaderBytes || file.substr(0, 4) != "\x7f" "ELF" || file[4] != 2 ||
      file[5] != 1 || Get<uint16_t>(file, 18) != kMachineX86_64) {
    return std::nullopt;  // not ELF64, little-endian, x86-64
  }
  uint64_t shoff = Get<uint64_t>(file, 0x28);
  uint16_t shentsize = Get<uint16_t>(file, 0x3a), shnum = Get<uint16_t>(file, 0x3c);
  uint16_t shstrndx = Get<uint16_t>(file, 0x3e);
  if (shentsize != kSectionHeaderBytes || shnum == 0 || shstrndx >= shnum ||
      !Inside(shoff, shnum * kSectionHeaderBytes, file.size())) {
    return std::nullopt;
  }
  auto header = [&](uint16_t i) { return file.substr(shoff + i * kSectionHeaderBytes, kSectionHeaderBytes); };
  std::string_view strtab = header(shstrndx);
  uint64_t names_at = Get<uint64_t>(strtab, 24), names_size = Get<uint64_t>(strtab, 32);
  if (!Inside(names_at, names_size, file.size())) return std::nullopt;
  std::string_view names = file.substr(names_at, names_size);
  ElfLayout layout;
  layout.reserved = {{0, kElfHeaderBytes}, {shoff, shnum * kSectionHeaderBytes}, {names_at, names_size}};
  for (uint16_t i = 0; i < shnum; ++i) {
    std::string_view h = header(i);
    uint32_t type = Get<uint32_t>(h, 4);
    uint64_t flags = Get<uint64_t>(h, 8);
    ElfSection s{NameAt(names, Get<uint32_t>(h, 0)), Get<uint64_t>(h, 16), Get<uint64_t>(h, 24),
                 Get<uint64_t>(h, 32), (flags & kFlagAlloc) != 0,
                 type != kTypeNull && type != kTypeNoBits, (flags & kFlagExec) != 0};
    if (s.in_file && !Inside(s.offset, s.size, file.size())) s.in_file = s.executable = false;
    layout.sections.push_back(std::move(s));
  }
  return layout;
}

std::vector<CodeRef> FindCodeRefs(std::string_view file, const ElfLayout& layout) {
  std::vector<const ElfSection*> code;
  for (const ElfSection& s : layout.sections) {
    if (s.executable && s.in_file && Inside(s.offset, s.size, file.size())) code.push_back(&s);
  }
  std::stable_sort(code.begin(), code.end(), [](auto* a, auto* b) { return a->offset < b->offset; });
  std::vector<CodeRef> refs;
  uint64_t swept = 0;  // overlapping sections: each byte is swept once, by the first
  for (const ElfSection* s : code) {
    uint64_t begin = std::max(s->offset, swept), end = s->offset + s->size;
    if (begin >= end) continue;
    Sweep(file, *s, begin, end, layout.reserved, &refs);
    swept = end;
  }
  return refs;
}

void MaskCodeRefs(std::string* file, const std::vector<CodeRef>& refs) {
  for (const CodeRef& r : refs) std::memset(file->data() + r.field, 0, kFieldBytes);
}

}  // namespace outpost::delta
