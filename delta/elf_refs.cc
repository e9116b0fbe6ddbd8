#include "delta/elf_refs.h"

#include <algorithm>
#include <cstring>
#include <iterator>

#include "delta/a64_refs.h"
#include "delta/code_sweep.h"

namespace outpost::delta {
namespace {

constexpr uint64_t kElfHeaderBytes = 64;
constexpr uint64_t kSectionHeaderBytes = 64;
constexpr uint16_t kMachineX86_64 = 62, kMachineAarch64 = 183;
constexpr uint32_t kTypeNull = 0, kTypeNoBits = 8;
constexpr uint64_t kFlagAlloc = 0x2, kFlagExec = 0x4;
constexpr std::string_view kEhFrameHdr = ".eh_frame_hdr", kEhFrame = ".eh_frame";

// The sections whose data pointers are references in a file loaded at any address too (PIE
// executables, shared libraries): the linker writes link-time addresses into them.
constexpr std::string_view kPointerSections[] = {".init_array", ".fini_array", ".data.rel.ro", ".data",
                                                 ".got",        ".got.plt",    ".dynamic",     ".rela.dyn",
                                                 ".rela.plt",   ".dynsym"};

// True when the allocated section `s` holds data pointers in a file of `layout`: every one in a
// fixed-address file, those of kPointerSections in the others.
bool HoldsPointers(const ElfLayout& layout, const ElfSection& s) {
  return layout.fixed_address || std::find(std::begin(kPointerSections), std::end(kPointerSections), s.name) !=
                                     std::end(kPointerSections);
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

// Appends the data pointers of file[begin, end), which belongs to `section` of `layout`: each
// 8-byte word at an 8-aligned address whose high half is zero and whose low half is an address
// some allocated section holds or kMaskedPointer (so a masked word is still one), unless it
// overlaps reserved bytes.
void ScanPointers(std::string_view file, const ElfLayout& layout, const ElfSection& section, uint64_t begin,
                  uint64_t end, std::vector<CodeRef>* out) {
  uint64_t address = section.address + (begin - section.offset);
  for (uint64_t pos = begin + (-address & 7); pos + 8 <= end; pos += 8) {
    if (LoadLe<uint32_t>(file, pos + 4) != 0) continue;
    uint32_t low = LoadLe<uint32_t>(file, pos);
    if (low != kMaskedPointer && layout.SectionAt(low) == nullptr) continue;
    if (layout.TouchesReserved(pos, kFieldBytes)) continue;
    uint64_t at = section.address + (pos - section.offset);
    out->push_back(CodeRef{pos, at, static_cast<int32_t>(low), true, true});
  }
}

// Appends the fields of the .eh_frame_hdr `section` when it has the usual encodings (version 1,
// eh_frame_ptr pcrel sdata4, fde_count udata4, table datarel sdata4): eh_frame_ptr (relative to
// its own address) and every table entry that fits in the section (relative to the section's
// address), unless it overlaps reserved bytes.
void ScanEhFrameHdr(std::string_view file, const ElfLayout& layout, const ElfSection& section,
                    std::vector<CodeRef>* out) {
  constexpr uint64_t kTableAt = 12;
  if (section.size < kTableAt || LoadLe<uint32_t>(file, section.offset) != 0x3B031B01) return;
  uint64_t entries = 2 * uint64_t{LoadLe<uint32_t>(file, section.offset + 8)};
  entries = std::min(entries, (section.size - kTableAt) / kFieldBytes);
  auto add = [&](uint64_t at, uint64_t base, EhRole role) {
    if (!layout.TouchesReserved(at, kFieldBytes)) {
      out->push_back(CodeRef{at, base, LoadLe<int32_t>(file, at), false, false, role});
    }
  };
  add(section.offset + 4, section.address + 4, EhRole::kNone);
  for (uint64_t i = 0; i < entries; ++i) {
    add(section.offset + kTableAt + i * kFieldBytes, section.address,
        i % 2 == 0 ? EhRole::kHdrLocation : EhRole::kHdrFde);
  }
}

// Reads an unsigned LEB128 number of file[*at, end) and moves *at past it; false when it does
// not end before `end` or is longer than 10 bytes.
bool SkipLeb128(std::string_view file, uint64_t* at, uint64_t end) {
  for (int i = 0; i < 10 && *at < end; ++i) {
    if ((static_cast<uint8_t>(file[(*at)++]) & 0x80) == 0) return true;
  }
  return false;
}

// True when the CIE whose augmentation string starts at `at` (record ends at `end`) gives its
// FDEs pc_begin as pcrel sdata4 (0x1B): version 1 or 3, augmentation "z" followed only by R, L,
// P (with a 4- or 8-byte personality pointer), S or B.
bool CieHasPcrelSdata4(std::string_view file, uint64_t version_at, uint64_t end) {
  uint8_t version = static_cast<uint8_t>(file[version_at]);
  uint64_t at = version_at + 1;
  uint64_t nul = file.substr(0, end).find('\0', at);
  if ((version != 1 && version != 3) || nul == std::string_view::npos) return false;
  std::string_view augmentation = file.substr(at, nul - at);
  at = nul + 1;
  if (augmentation.empty() || augmentation[0] != 'z') return false;
  if (!SkipLeb128(file, &at, end) || !SkipLeb128(file, &at, end)) return false;  // alignment factors
  if (version == 1 ? ++at > end : !SkipLeb128(file, &at, end)) return false;      // return register
  if (!SkipLeb128(file, &at, end)) return false;                                  // augmentation length
  int encoding = -1;
  for (char c : augmentation.substr(1)) {
    if (c == 'S' || c == 'B') continue;
    if (at >= end) return false;
    uint8_t e = static_cast<uint8_t>(file[at++]);
    if (c == 'R') {
      encoding = e;
    } else if (c == 'P') {
      uint8_t form = e & 0x0F;
      uint64_t size = form == 0x03 || form == 0x0B ? 4 : form == 0x00 || form == 0x04 || form == 0x0C ? 8 : 0;
      if (size == 0 || size > end - at) return false;
      at += size;
    } else if (c != 'L') {
      return false;
    }
  }
  return encoding == 0x1B;
}

// Appends the pc_begin fields of the .eh_frame `section`'s FDEs whose CIE (a record before them
// in the section) gives the pcrel sdata4 encoding, each relative to its own address: the
// records are walked by their 4-byte lengths from the section's start to a length below 4, a
// 64-bit length or a record past the section's end; no field overlapping reserved bytes.
void ScanEhFrame(std::string_view file, const ElfLayout& layout, const ElfSection& section,
                 std::vector<CodeRef>* out) {
  std::vector<uint64_t> pcrel_cies;  // offsets of the CIEs with that encoding, ascending
  uint64_t end = section.offset + section.size;
  for (uint64_t at = section.offset; end - at >= 8;) {
    uint32_t length = LoadLe<uint32_t>(file, at);
    if (length < 4 || length == 0xFFFFFFFF || length > end - at - 4) return;
    uint64_t record_end = at + 4 + length;
    uint32_t id = LoadLe<uint32_t>(file, at + 4);
    if (id == 0) {
      if (length > 4 && CieHasPcrelSdata4(file, at + 8, record_end)) pcrel_cies.push_back(at);
    } else if (id <= at + 4 - section.offset && length >= 8 &&
               std::binary_search(pcrel_cies.begin(), pcrel_cies.end(), at + 4 - id) &&
               !layout.TouchesReserved(at + 8, kFieldBytes)) {
      uint64_t address = section.address + (at + 8 - section.offset);
      out->push_back(CodeRef{at + 8, address, LoadLe<int32_t>(file, at + 8), false, false, EhRole::kFdeBegin});
    }
    at = record_end;
  }
}

// The spans of `sections` that `chosen` picks, keyed by `start`: each value in the result's
// ranges belongs to the first chosen section (in header order) holding it.
std::vector<ElfLayout::Span> Spans(const std::vector<ElfSection>& sections, bool (*chosen)(const ElfSection&),
                                   uint64_t ElfSection::*start) {
  std::vector<uint64_t> bounds;
  for (const ElfSection& s : sections) {
    // A section reaching past 2^64 ends there (its last address then belongs to no span).
    uint64_t end = s.size > UINT64_MAX - s.*start ? UINT64_MAX : s.*start + s.size;
    if (chosen(s) && s.size > 0) bounds.insert(bounds.end(), {s.*start, end});
  }
  std::sort(bounds.begin(), bounds.end());
  bounds.erase(std::unique(bounds.begin(), bounds.end()), bounds.end());
  std::vector<ElfLayout::Span> spans;
  for (size_t i = 0; i + 1 < bounds.size(); ++i) {
    auto holds = [&](const ElfSection& s) {
      return chosen(s) && bounds[i] >= s.*start && bounds[i] - s.*start < s.size;
    };
    auto first = std::find_if(sections.begin(), sections.end(), holds);
    if (first == sections.end()) continue;
    size_t index = static_cast<size_t>(first - sections.begin());
    if (!spans.empty() && spans.back().end == bounds[i] && spans.back().section == index) {
      spans.back().end = bounds[i + 1];
    } else {
      spans.push_back(ElfLayout::Span{bounds[i], bounds[i + 1], index});
    }
  }
  return spans;
}

// The span of `spans` (sorted, disjoint) holding `at` (null: none); tries spans[*hint] first
// when given a hint, and sets it to the span found.
const ElfLayout::Span* SpanAt(const std::vector<ElfLayout::Span>& spans, uint64_t at, size_t* hint) {
  if (hint != nullptr && *hint < spans.size() && spans[*hint].begin <= at && at < spans[*hint].end) {
    return &spans[*hint];
  }
  auto it = std::upper_bound(spans.begin(), spans.end(), at,
                             [](uint64_t v, const ElfLayout::Span& s) { return v < s.begin; });
  if (it == spans.begin() || at >= (it - 1)->end) return nullptr;
  if (hint != nullptr) *hint = static_cast<size_t>(it - 1 - spans.begin());
  return &*(it - 1);
}

// About as many fields as `sections` of a file of `file_size` bytes hold, to reserve room for:
// compiled code has one per 13 bytes (measured on the corpus's binaries), pointer sections fewer;
// never more than one per 12 bytes of the file (sections may overlap).
size_t ExpectedFields(const std::vector<const ElfSection*>& sections, uint64_t file_size) {
  uint64_t expected = 0;
  for (const ElfSection* s : sections) expected += s->size / (s->executable ? 12 : 16);
  return static_cast<size_t>(std::min(expected, file_size / 12));
}

}  // namespace

const ElfSection* ElfLayout::SectionAt(uint64_t address, Hint* hint) const {
  const Span* span = SpanAt(by_address, address, hint != nullptr ? &hint->by_address : nullptr);
  return span != nullptr ? &sections[span->section] : nullptr;
}

const ElfSection* ElfLayout::Named(std::string_view name) const {
  for (const ElfSection& s : sections) {
    if (s.name == name) return &s;
  }
  return nullptr;
}

std::optional<uint64_t> ElfLayout::OffsetOf(uint64_t address, Hint* hint) const {
  const ElfSection* s = SectionAt(address, hint);
  if (s == nullptr || !s->in_file) return std::nullopt;
  return s->offset + (address - s->address);
}

std::optional<uint64_t> ElfLayout::AddressOf(uint64_t offset, Hint* hint) const {
  const Span* span = SpanAt(by_offset, offset, hint != nullptr ? &hint->by_offset : nullptr);
  if (span == nullptr) return std::nullopt;
  const ElfSection& s = sections[span->section];
  return s.address + (offset - s.offset);
}

bool ElfLayout::TouchesReserved(uint64_t at, uint64_t size) const {
  return std::any_of(reserved.begin(), reserved.end(), [&](const auto& r) {
    return at < r.first + r.second && r.first < at + size;
  });
}

std::optional<ElfLayout> ReadElfLayout(std::string_view file) {
  if (file.size() < kElfHeaderBytes || file.substr(0, 4) != "\x7f" "ELF" || file[4] != 2 || file[5] != 1) {
    return std::nullopt;  // not ELF64, little-endian
  }
  uint16_t machine = LoadLe<uint16_t>(file, 18);
  if (machine != kMachineX86_64 && machine != kMachineAarch64) return std::nullopt;
  uint64_t shoff = LoadLe<uint64_t>(file, 0x28);
  uint16_t shentsize = LoadLe<uint16_t>(file, 0x3a), shnum = LoadLe<uint16_t>(file, 0x3c);
  uint16_t shstrndx = LoadLe<uint16_t>(file, 0x3e);
  if (shentsize != kSectionHeaderBytes || shnum == 0 || shstrndx >= shnum ||
      !Inside(shoff, shnum * kSectionHeaderBytes, file.size())) {
    return std::nullopt;
  }
  auto header = [&](uint16_t i) { return file.substr(shoff + i * kSectionHeaderBytes, kSectionHeaderBytes); };
  std::string_view strtab = header(shstrndx);
  uint64_t names_at = LoadLe<uint64_t>(strtab, 24), names_size = LoadLe<uint64_t>(strtab, 32);
  if (!Inside(names_at, names_size, file.size())) return std::nullopt;
  std::string_view names = file.substr(names_at, names_size);
  ElfLayout layout;
  layout.machine = machine == kMachineX86_64 ? ElfMachine::kX86_64 : ElfMachine::kAarch64;
  constexpr uint16_t kTypeExec = 2;  // ET_EXEC: loaded at the addresses it names
  layout.fixed_address = LoadLe<uint16_t>(file, 16) == kTypeExec;
  layout.reserved = {{0, kElfHeaderBytes}, {shoff, shnum * kSectionHeaderBytes}, {names_at, names_size}};
  for (uint16_t i = 0; i < shnum; ++i) {
    std::string_view h = header(i);
    uint32_t type = LoadLe<uint32_t>(h, 4);
    uint64_t flags = LoadLe<uint64_t>(h, 8);
    ElfSection s{NameAt(names, LoadLe<uint32_t>(h, 0)), LoadLe<uint64_t>(h, 16), LoadLe<uint64_t>(h, 24),
                 LoadLe<uint64_t>(h, 32), (flags & kFlagAlloc) != 0,
                 type != kTypeNull && type != kTypeNoBits, (flags & kFlagExec) != 0};
    if (s.in_file && !Inside(s.offset, s.size, file.size())) s.in_file = s.executable = false;
    layout.sections.push_back(std::move(s));
  }
  layout.by_address = Spans(layout.sections, [](const ElfSection& s) { return s.allocated; }, &ElfSection::address);
  layout.by_offset =
      Spans(layout.sections, [](const ElfSection& s) { return s.allocated && s.in_file; }, &ElfSection::offset);
  return layout;
}

std::vector<CodeRef> FindCodeRefs(std::string_view file, const ElfLayout& layout, CodeTrace* trace,
                                  const KnownCode* known) {
  // Code sections, unwind tables and pointer sections with file bytes.
  std::vector<const ElfSection*> swept_sections;
  for (const ElfSection& s : layout.sections) {
    bool unwind_table = s.name == kEhFrameHdr || s.name == kEhFrame;
    if (s.in_file && (s.executable || unwind_table || (s.allocated && HoldsPointers(layout, s)))) {
      swept_sections.push_back(&s);
    }
  }
  std::stable_sort(swept_sections.begin(), swept_sections.end(),
                   [](auto* a, auto* b) { return a->offset < b->offset; });
  std::vector<CodeRef> refs;
  refs.reserve(ExpectedFields(swept_sections, file.size()));
  if (trace != nullptr && layout.machine == ElfMachine::kX86_64) {  // only x86-64 code is decoded
    *trace = CodeTrace{{}, std::vector<uint64_t>(file.size() / 64 + 1), {}};
  }
  uint64_t swept = 0;  // overlapping sections: each byte is swept once, by the first
  for (const ElfSection* s : swept_sections) {
    uint64_t begin = std::max(s->offset, swept), end = s->offset + s->size;
    if (begin >= end) continue;
    if (s->executable && layout.machine == ElfMachine::kAarch64) {
      SweepA64(file, layout, *s, begin, end, &refs);
    } else if (s->executable) {
      SweepCode(file, layout, *s, begin, end, &refs, trace, known);
    } else if (s->name == kEhFrameHdr) {
      if (begin == s->offset) ScanEhFrameHdr(file, layout, *s, &refs);
    } else if (s->name == kEhFrame) {
      if (begin == s->offset) ScanEhFrame(file, layout, *s, &refs);
    } else {
      ScanPointers(file, layout, *s, begin, end, &refs);
    }
    swept = end;
  }
  return refs;
}

void MaskCodeRefs(std::string* file, const std::vector<CodeRef>& refs) {
  for (const CodeRef& r : refs) WriteField(file, r, MaskedValue(r));
}

uint32_t A64FieldWord(std::string_view file, const CodeRef& ref, int32_t value) {
  return A64WithImmediate(LoadLe<uint32_t>(file, ref.field), ref.form, value);
}

void WriteField(std::string* file, const CodeRef& ref, int32_t value) {
  uint32_t word = FieldWord(*file, ref, value);
  std::memcpy(file->data() + ref.field, &word, kFieldBytes);
}

}  // namespace outpost::delta
