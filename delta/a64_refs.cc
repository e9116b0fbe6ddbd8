#include "delta/a64_refs.h"

#include <optional>

namespace outpost::delta {
namespace {

constexpr uint64_t kWordBytes = 4;
constexpr uint64_t kPageMask = 0xFFF;

// Where a form's immediate lies in the word: `bits` bits from bit `at` (ADR and ADRP: the high
// 19 bits there, the low 2 in bits 29..30).
struct Placement {
  uint8_t at;
  uint8_t bits;
};

Placement PlacementOf(FieldForm form) {
  switch (form) {
    case FieldForm::kA64Branch26: return {0, 26};
    case FieldForm::kA64Branch19: return {5, 19};
    case FieldForm::kA64Branch14: return {5, 14};
    case FieldForm::kA64Adr:
    case FieldForm::kA64Adrp: return {5, 19};
    case FieldForm::kA64Lo12:
    case FieldForm::kA64Lo12x8: return {10, 12};
    case FieldForm::kLe32: break;
  }
  return {0, 32};
}

bool IsAdrFamily(FieldForm form) { return form == FieldForm::kA64Adr || form == FieldForm::kA64Adrp; }

uint32_t Mask(unsigned bits) { return bits >= 32 ? 0xFFFFFFFFu : (1u << bits) - 1; }

// The form of `word` when it is a PC-relative instruction, else kLe32 (none). ADRP pairs are
// judged by the sweep.
FieldForm RelativeForm(uint32_t word) {
  if ((word & 0x7C000000) == 0x14000000) return FieldForm::kA64Branch26;  // B, BL
  if ((word & 0xFF000010) == 0x54000000) return FieldForm::kA64Branch19;  // B.cond
  if ((word & 0x7E000000) == 0x34000000) return FieldForm::kA64Branch19;  // CBZ, CBNZ
  if ((word & 0x7E000000) == 0x36000000) return FieldForm::kA64Branch14;  // TBZ, TBNZ
  if ((word & 0x3B000000) == 0x18000000) return FieldForm::kA64Branch19;  // LDR, LDRSW, PRFM (literal)
  if ((word & 0x9F000000) == 0x10000000) return FieldForm::kA64Adr;
  if ((word & 0x9F000000) == 0x90000000) return FieldForm::kA64Adrp;
  return FieldForm::kLe32;
}

// The low-12 form of `word` when it is ADD Xd, Xn, #imm12 (no shift) or LDR Xt, [Xn, #imm12],
// else kLe32 (none).
FieldForm Lo12Form(uint32_t word) {
  if ((word & 0xFFC00000) == 0x91000000) return FieldForm::kA64Lo12;
  if ((word & 0xFFC00000) == 0xF9400000) return FieldForm::kA64Lo12x8;
  return FieldForm::kLe32;
}

// The ADRP fields among the last words swept: where a low-12 field finds its ADRP.
class RecentAdrps {
 public:
  // The address of the nearest ADRP field among the kPairWords words before `pc` that sets
  // register `reg` (nullopt: none).
  std::optional<uint64_t> Find(uint64_t pc, uint32_t reg) const {
    std::optional<uint64_t> found;
    for (const Entry& e : entries_) {
      bool near = e.used && e.pc < pc && pc - e.pc <= kPairWords * kWordBytes;
      if (near && e.reg == reg && (!found || e.pc > *found)) found = e.pc;
    }
    return found;
  }

  // Notes an ADRP field at `pc` setting register `reg`.
  void Add(uint64_t pc, uint32_t reg) { entries_[next_++ % kPairWords] = Entry{pc, reg, true}; }

 private:
  static constexpr uint64_t kPairWords = 4;
  struct Entry {
    uint64_t pc = 0;
    uint32_t reg = 0;
    bool used = false;
  };
  Entry entries_[kPairWords];
  size_t next_ = 0;
};

}  // namespace

int32_t A64Immediate(uint32_t word, FieldForm form) {
  Placement p = PlacementOf(form);
  uint64_t raw = (word >> p.at) & Mask(p.bits);
  if (IsAdrFamily(form)) raw = (raw << 2) | ((word >> 29) & 3);
  return WrapToField(form, static_cast<int64_t>(raw));
}

uint32_t A64WithImmediate(uint32_t word, FieldForm form, int32_t value) {
  Placement p = PlacementOf(form);
  uint32_t v = static_cast<uint32_t>(value) & Mask(ShapeOf(form).bits);
  if (IsAdrFamily(form)) {
    word = (word & ~(3u << 29)) | ((v & 3) << 29);
    v >>= 2;
  }
  return (word & ~(Mask(p.bits) << p.at)) | (v << p.at);
}

void SweepA64(std::string_view file, const ElfLayout& layout, const ElfSection& section, uint64_t begin,
              uint64_t end, std::vector<CodeRef>* out) {
  uint64_t address_minus_offset = section.address - section.offset;
  uint64_t pos = begin + ((0 - (begin + address_minus_offset)) & (kWordBytes - 1));  // 4-aligned address
  bool near_reserved = layout.TouchesReserved(begin, end - begin);
  RecentAdrps adrps;
  for (; pos + kWordBytes <= end; pos += kWordBytes) {
    uint32_t word = LoadLe<uint32_t>(file, pos);
    uint64_t pc = pos + address_minus_offset;
    FieldForm form = Lo12Form(word);
    std::optional<uint64_t> adrp = form != FieldForm::kLe32 ? adrps.Find(pc, (word >> 5) & 31) : std::nullopt;
    uint64_t from = adrp.value_or(0);
    if (!adrp) {  // not the low 12 bits of an ADRP's target
      form = RelativeForm(word);
      from = form == FieldForm::kA64Adrp ? pc & ~kPageMask : pc;
    }
    if (form == FieldForm::kLe32 || (near_reserved && layout.TouchesReserved(pos, kWordBytes))) continue;
    if (form == FieldForm::kA64Adrp) adrps.Add(pc, word & 31);
    out->push_back(CodeRef{pos, from, A64Immediate(word, form), false, false, EhRole::kNone, form});
  }
}

}  // namespace outpost::delta
