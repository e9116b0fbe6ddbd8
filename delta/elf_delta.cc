#include "delta/elf_delta.h"

#include <algorithm>
#include <cstring>
#include <future>
#include <vector>

#include "common/error.h"
#include "delta/code_sweep.h"
#include "delta/elf_refs.h"
#include "delta/varint.h"
#include "delta/zstd_util.h"

namespace outpost::delta {
namespace {

constexpr std::string_view kWhat = "ELF_REF payload";
// The reference model of the payload (its first byte), one per instruction set: x86-64 or
// AArch64 code fields, with data pointers and unwind table fields, predicted as
// docs/layer-delta-format.md describes. Another model gets another number.
constexpr uint8_t kModelX86_64 = 1, kModelAarch64 = 2;

uint8_t ModelOf(ElfMachine machine) { return machine == ElfMachine::kX86_64 ? kModelX86_64 : kModelAarch64; }
constexpr uint8_t kBsdiffRawMode = 1;  // BsdiffPackRaw's first byte: corrections are raw too

// Old target -> new target, as the fields showed: open addressing with linear probing, kept at
// most half full (the predictor looks it up once per field; small slots stay in cache).
class MoveTable {
 public:
  // Room for `expected` keys before it grows (growing rehashes every key, at random).
  explicit MoveTable(size_t expected) {
    size_t slots = 1024;
    while (slots < 2 * expected) slots *= 2;
    slots_.resize(slots);
    mask_ = slots - 1;
  }

  // The value recorded for `key` (null: none).
  const uint64_t* Find(uint64_t key) const {
    if (key == 0) return zero_ ? &zero_value_ : nullptr;
    for (size_t i = Home(key);; i = (i + 1) & mask_) {
      const Slot& slot = slots_[i];
      if (slot.key == key) return &slot.value;
      if (slot.key == 0) return nullptr;
    }
  }

  // Records `value` for `key`.
  void Set(uint64_t key, uint64_t value) {
    if (key == 0) {
      zero_ = true;
      zero_value_ = value;
      return;
    }
    if (2 * (size_ + 1) > slots_.size()) Grow();
    Slot& slot = slots_[Probe(key)];
    if (slot.key == 0) ++size_;
    slot = Slot{key, value};
  }

 private:
  struct Slot {
    uint64_t key = 0, value = 0;  // key 0: empty (key 0 itself is kept aside)
  };

  size_t Home(uint64_t key) const { return static_cast<size_t>((key * 0x9E3779B97F4A7C15ull) >> 32) & mask_; }

  // The slot holding `key`, or the empty one where it goes.
  size_t Probe(uint64_t key) const {
    size_t i = Home(key);
    while (slots_[i].key != 0 && slots_[i].key != key) i = (i + 1) & mask_;
    return i;
  }

  void Grow() {
    std::vector<Slot> old(2 * slots_.size());
    old.swap(slots_);
    mask_ = slots_.size() - 1;
    for (const Slot& slot : old) {
      if (slot.key != 0) slots_[Probe(slot.key)] = slot;
    }
  }

  std::vector<Slot> slots_;
  size_t mask_;
  size_t size_ = 0;
  bool zero_ = false;
  uint64_t zero_value_ = 0;
};

// std::popcount, without the library call a baseline x86-64 build makes of it.
constexpr unsigned CountBits(uint64_t v) {
  v -= (v >> 1) & 0x5555555555555555;
  v = (v & 0x3333333333333333) + ((v >> 2) & 0x3333333333333333);
  v = (v + (v >> 4)) & 0x0F0F0F0F0F0F0F0F;
  return static_cast<unsigned>((v * 0x0101010101010101) >> 56);
}

// Where the base's fields start, for finding the one at a given offset in constant time: a bit
// per base offset, and per 64 offsets how many fields start before them.
class FieldStarts {
 public:
  // `refs`: in file order, as FindCodeRefs returns them.
  explicit FieldStarts(const std::vector<CodeRef>& refs) : blocks_(refs.empty() ? 0 : refs.back().field / 64 + 1) {
    for (const CodeRef& r : refs) blocks_[r.field / 64].starts |= uint64_t{1} << (r.field % 64);
    uint32_t before = 0;
    for (Block& b : blocks_) {
      b.before = before;
      before += static_cast<uint32_t>(CountBits(b.starts));
    }
    total_ = before;
  }

  // The index in `refs` of the field starting at `offset`, or SIZE_MAX.
  size_t At(uint64_t offset) const {
    if (offset / 64 >= blocks_.size()) return SIZE_MAX;
    uint64_t bit = uint64_t{1} << (offset % 64);
    return (blocks_[offset / 64].starts & bit) != 0 ? FirstFrom(offset) : SIZE_MAX;
  }

  // The index in `refs` of the first field starting at or after `offset` (refs.size(): none).
  size_t FirstFrom(uint64_t offset) const {
    if (offset / 64 >= blocks_.size()) return total_;
    const Block& b = blocks_[offset / 64];
    uint64_t bit = uint64_t{1} << (offset % 64);
    return b.before + static_cast<size_t>(CountBits(b.starts & (bit - 1)));
  }

 private:
  struct Block {
    uint64_t starts = 0;  // bit i: a field starts at offset 64 * block + i
    uint32_t before = 0;  // fields starting in the blocks before
  };
  std::vector<Block> blocks_;
  size_t total_ = 0;
};

// The index of the last of `regions` (sorted by `key`) starting at or before `at`, or -1; only
// regions[first, after) are searched, those before `first` being known to start before `at`
// and those from `after` on after it (then first - 1 when none in between does).
template <typename Key>
ptrdiff_t LastStartingBy(const std::vector<BsdiffRegion>& regions, Key key, uint64_t at, size_t first = 0,
                         size_t after = SIZE_MAX) {
  auto begin = regions.begin() + static_cast<ptrdiff_t>(first);
  auto end = regions.begin() + static_cast<ptrdiff_t>(std::min(after, regions.size()));
  auto it = std::upper_bound(begin, end, at, [&](uint64_t v, const BsdiffRegion& r) { return v < r.*key; });
  return (it - regions.begin()) - 1;
}

// True for the fields the predictor sees last: the .eh_frame_hdr table entries (predicted from
// the .eh_frame FDEs, which come before them in the file).
bool PredictedLast(const CodeRef& ref) { return ref.eh == EhRole::kHdrLocation || ref.eh == EhRole::kHdrFde; }

// Predicts each target reference field from the base (see elf_delta.h); the encoder and the
// applier run it over the same fields in the same order, so they predict the same values.
class Predictor {
 public:
  // `old_starts`: of `old_refs`; `fields`: how many fields it will predict.
  Predictor(const ElfLayout& old_layout, const ElfLayout& new_layout, const std::vector<CodeRef>& old_refs,
            const FieldStarts& old_starts, std::vector<BsdiffRegion> regions, size_t fields)
      : old_(old_layout),
        new_(new_layout),
        old_refs_(old_refs),
        old_starts_(old_starts),
        by_new_(std::move(regions)),
        by_old_(by_new_),
        moves_(fields / 2) {  // a third to a half of a file's fields name a target no field before did
    std::stable_sort(by_old_.begin(), by_old_.end(),
                     [](const BsdiffRegion& a, const BsdiffRegion& b) { return a.old_offset < b.old_offset; });
    for (const ElfSection& s : old_.sections) {
      const ElfSection* n = new_.Named(s.name);
      shifts_.push_back(n != nullptr ? n->address - s.address : 0);
    }
    reach_.resize(by_old_.size());
    for (size_t i = 0, best = 0; i < by_old_.size(); ++i) {
      if (End(by_old_[i]) > End(by_old_[best])) best = i;
      reach_[i] = best;
    }
    old_pages_.resize(by_old_.empty() ? 0 : (by_old_.back().old_offset >> kPageBits) + 2);
    for (size_t page = 0, i = 0; page < old_pages_.size(); ++page) {
      while (i < by_old_.size() && by_old_[i].old_offset < (page << kPageBits)) ++i;
      old_pages_[page] = i;
    }
  }

  // The predicted value of `ref`'s field.
  int32_t Predict(const CodeRef& ref) {
    old_target_.reset();
    if (PredictedLast(ref)) {
      // The table lists the FDEs by function address: entry i is the i-th of them.
      if (hdr_fields_ == 0) std::stable_sort(fdes_.begin(), fdes_.end());
      size_t entry = hdr_fields_++ / 2;
      if (entry < fdes_.size()) {
        uint64_t target = ref.eh == EhRole::kHdrLocation ? fdes_[entry].first : fdes_[entry].second;
        return static_cast<int32_t>(static_cast<uint32_t>(target - ref.next_ip));
      }
    }
    const CodeRef* old = OldRef(ref.field);
    if (old == nullptr || old->absolute != ref.absolute || old->data != ref.data || old->form != ref.form) return 0;
    if (ref.absolute && old_.SectionAt(old->Target(), &old_hint_) == nullptr) return old->value;  // a constant
    uint64_t old_target = OldTarget(*old);
    if (ref.form != FieldForm::kA64Adrp) old_target_ = old_target;  // an ADRP's pair records it
    return ValueFor(ref, MappedTarget(old_target));
  }

  // Records the field's actual value: its old target moved to where it now points, and for an
  // FDE's pc_begin the FDE with its function, for the .eh_frame_hdr table. An ADRP's page waits
  // for the low 12 bits paired with it.
  void Learn(const CodeRef& ref, int32_t value) {
    CodeRef actual = ref;
    actual.value = value;
    if (ref.form == FieldForm::kA64Adrp) {
      adrp_pages_[adrps_learned_++ % kAdrpPages] = {new_.AddressOf(ref.field).value_or(0), actual.Target()};
      return;
    }
    uint64_t target = actual.Target();
    if (IsLo12(ref.form)) {
      const std::pair<uint64_t, uint64_t>* adrp = nullptr;
      for (const auto& entry : adrp_pages_) {
        if (entry.first == ref.next_ip) adrp = &entry;
      }
      if (adrp == nullptr) return;
      target = adrp->second + (static_cast<uint64_t>(value) << ShapeOf(ref.form).shift);
    }
    if (old_target_) moves_.Set(*old_target_, target);
    if (ref.eh == EhRole::kFdeBegin) fdes_.emplace_back(target, ref.next_ip - 8);  // its record's address
  }

 private:
  // How many of the last ADRP fields filled the predictor keeps: a low-12 field pairs with one of
  // the 4 words before it.
  static constexpr size_t kAdrpPages = 4;

  static bool IsLo12(FieldForm form) { return form == FieldForm::kA64Lo12 || form == FieldForm::kA64Lo12x8; }

  // The address an old field names, an ADRP and a low-12 field paired with it together.
  uint64_t OldTarget(const CodeRef& old) const {
    const CodeRef* first = old_refs_.data();
    const CodeRef* end = first + old_refs_.size();
    if (IsLo12(old.form)) {  // its ADRP is among the 4 fields before it, at address next_ip
      std::optional<uint64_t> adrp_field = old_.OffsetOf(old.next_ip);
      for (const CodeRef* r = &old; r != first && &old - r < static_cast<ptrdiff_t>(kAdrpPages);) {
        --r;
        if (adrp_field && r->field == *adrp_field && r->form == FieldForm::kA64Adrp) {
          return r->Target() + (static_cast<uint64_t>(old.value) << ShapeOf(old.form).shift);
        }
      }
      return static_cast<uint64_t>(old.value) << ShapeOf(old.form).shift;
    }
    if (old.form == FieldForm::kA64Adrp) {  // the first low-12 field paired with it, if any
      std::optional<uint64_t> address = old_.AddressOf(old.field);
      for (const CodeRef* r = &old + 1; r != end && r - &old <= static_cast<ptrdiff_t>(kAdrpPages); ++r) {
        if (address && IsLo12(r->form) && r->next_ip == *address) return OldTarget(*r);
      }
    }
    return old.Target();
  }

  // The value `ref`'s field takes to name `target`.
  static int32_t ValueFor(const CodeRef& ref, uint64_t target) {
    const FieldShape& shape = ShapeOf(ref.form);
    if (IsLo12(ref.form)) return WrapToField(ref.form, static_cast<int64_t>((target & 0xFFF) >> shape.shift));
    if (ref.form == FieldForm::kA64Adrp) target &= ~uint64_t{0xFFF};
    int64_t bytes = static_cast<int64_t>(target - (ref.absolute ? 0 : ref.next_ip));
    return WrapToField(ref.form, bytes >> shape.shift);
  }

  // The old reference the matcher aligned with the new field at `field` (null: none).
  const CodeRef* OldRef(uint64_t field) {
    ptrdiff_t i = RunStartingBy(field);
    if (i < 0 || field + kFieldBytes > by_new_[i].new_offset + by_new_[i].length) return nullptr;
    const BsdiffRegion* r = &by_new_[i];  // the only one holding the field: they do not overlap
    size_t at = old_starts_.At(r->old_offset + (field - r->new_offset));
    return at != SIZE_MAX ? &old_refs_[at] : nullptr;
  }

  // LastStartingBy(by_new_, new_offset, field), walking on from the previous answer: the fields
  // come in file order, so it rarely moves far.
  ptrdiff_t RunStartingBy(uint64_t field) {
    if (run_ < 0 || by_new_[run_].new_offset > field) {
      run_ = LastStartingBy(by_new_, &BsdiffRegion::new_offset, field);
      return run_;
    }
    while (static_cast<size_t>(run_) + 1 < by_new_.size() && by_new_[run_ + 1].new_offset <= field) ++run_;
    return run_;
  }

  // Where `old_target` is in the new file: where an earlier field showed it moved (exact), else
  // through the difference runs holding it (the first guess), else by its section's shift, else
  // unchanged.
  uint64_t MappedTarget(uint64_t old_target) {
    if (const uint64_t* moved = moves_.Find(old_target)) return *moved;
    if (std::optional<uint64_t> off = old_.OffsetOf(old_target, &old_hint_)) {
      if (const BsdiffRegion* r = OldRegionAt(*off)) {
        uint64_t new_offset = r->new_offset + (*off - r->old_offset);
        if (std::optional<uint64_t> address = new_.AddressOf(new_offset, &new_hint_)) return *address;
      }
    }
    if (const ElfSection* s = old_.SectionAt(old_target, &old_hint_)) {
      return old_target + shifts_[s - old_.sections.data()];
    }
    return old_target;
  }

  static uint64_t End(const BsdiffRegion& r) { return r.old_offset + r.length; }

  // Of the runs holding base offset `at`, the one reaching furthest (null: none).
  const BsdiffRegion* OldRegionAt(uint64_t at) const {
    // Only the runs starting in `at`'s page need a search.
    uint64_t page = at >> kPageBits;
    size_t first = page < old_pages_.size() ? old_pages_[page] : by_old_.size();
    size_t after = page + 1 < old_pages_.size() ? old_pages_[page + 1] : by_old_.size();
    ptrdiff_t i = LastStartingBy(by_old_, &BsdiffRegion::old_offset, at, first, after);
    if (i < 0) return nullptr;
    const BsdiffRegion& r = by_old_[reach_[i]];
    return End(r) > at ? &r : nullptr;
  }

  const ElfLayout& old_;
  const ElfLayout& new_;
  ElfLayout::Hint old_hint_, new_hint_;  // the predictor's targets are mostly in one section
  const std::vector<CodeRef>& old_refs_;  // in file order
  const FieldStarts& old_starts_;         // of old_refs_
  std::vector<BsdiffRegion> by_new_, by_old_;
  std::vector<size_t> reach_;  // per by_old_ index i: the one reaching furthest among 0..i
  // Per 2^kPageBits bytes of the base: how many of by_old_ start before them.
  static constexpr unsigned kPageBits = 12;
  std::vector<size_t> old_pages_;
  // Per old section: how far the first new section of its name moved it (mod 2^64; 0: none).
  std::vector<uint64_t> shifts_;
  MoveTable moves_;                     // old target -> new target, as fields showed
  std::optional<uint64_t> old_target_;  // of the field last predicted
  ptrdiff_t run_ = -1;                  // by_new_ index RunStartingBy last answered
  std::vector<std::pair<uint64_t, uint64_t>> fdes_;  // (function, FDE address) per FDE learned
  size_t hdr_fields_ = 0;                            // .eh_frame_hdr table fields predicted
  // The last ADRP fields filled: (address of the instruction, the page it names).
  std::pair<uint64_t, uint64_t> adrp_pages_[kAdrpPages] = {};
  size_t adrps_learned_ = 0;
};

// Calls visit(ref) for each of `refs` (in file order) in the order the predictor sees them: file
// order, with the .eh_frame_hdr table entries last.
template <typename Visit>
void InPredictionOrder(const std::vector<CodeRef>& refs, Visit visit) {
  for (bool last : {false, true}) {
    for (const CodeRef& ref : refs) {
      if (PredictedLast(ref) == last) visit(ref);
    }
  }
}

ElfLayout LayoutOrThrow(std::string_view file, std::string_view which, uint8_t model) {
  std::optional<ElfLayout> layout = ReadElfLayout(file);
  if (!layout || ModelOf(layout->machine) != model) {
    throw Corruption(kWhat, ": the ", which, " is not an ELF file with section headers of the payload's instruction set");
  }
  return std::move(*layout);
}

// Turns `target`'s difference runs, applied to the unmasked `base`, into what they give against
// the base with `refs` masked: a run byte over a field byte moves by the masked byte less the
// unmasked one (runs add bytewise).
void MaskRuns(std::string* target, std::string_view base, const std::vector<CodeRef>& refs,
              const FieldStarts& starts, const std::vector<BsdiffRegion>& runs) {
  for (const BsdiffRegion& run : runs) {
    uint64_t end = run.old_offset + run.length;
    size_t i = starts.FirstFrom(run.old_offset < kFieldBytes ? 0 : run.old_offset - (kFieldBytes - 1));
    char* out = target->data() + run.new_offset;  // out[k]: the run's k-th byte
    for (; i < refs.size() && refs[i].field < end; ++i) {
      const CodeRef& ref = refs[i];
      uint32_t masked = FieldWord(base, ref, MaskedValue(ref));
      uint64_t from = std::max(ref.field, run.old_offset), to = std::min(ref.field + kFieldBytes, end);
      for (uint64_t at = from; at < to; ++at) {
        char& byte = out[at - run.old_offset];
        byte = static_cast<char>(byte - base[at] + static_cast<char>(masked >> (8 * (at - ref.field))));
      }
    }
  }
}

// Rebuilds the target from the unmasked base, a BSDIFF payload of the masked files and the raw
// corrections of reference model `model`.
std::string Rebuild(std::string base, std::string_view bsdiff, std::string_view corrections, uint64_t target_size,
                    uint8_t model) {
  ElfLayout old_layout = LayoutOrThrow(base, "base", model);
  // The base's fields are found on a second thread while the difference runs are applied to the
  // unmasked base; MaskRuns then makes those runs what the masked base gives.
  CodeTrace trace;
  std::future<std::vector<CodeRef>> sweep =
      std::async(std::launch::async | std::launch::deferred, [&] { return FindCodeRefs(base, old_layout, &trace); });
  std::vector<BsdiffRegion> regions;
  std::string target = BsdiffApply(base, bsdiff, target_size, &regions);
  std::vector<CodeRef> old_refs = sweep.get();
  FieldStarts old_starts(old_refs);
  MaskRuns(&target, base, old_refs, old_starts, regions);
  MaskCodeRefs(&base, old_refs);
  ElfLayout new_layout = LayoutOrThrow(target, "rebuilt file", model);
  // The rebuilt file's code mostly equals the masked base's: its decoding is taken from there.
  KnownCode known{base, &old_layout, &old_refs, &trace, &regions};
  std::vector<CodeRef> new_refs = FindCodeRefs(target, new_layout, nullptr, &known);
  base = std::string();  // the masked base is no longer needed
  trace = CodeTrace();
  Predictor predictor(old_layout, new_layout, old_refs, old_starts, std::move(regions), new_refs.size());
  size_t pos = 0;
  InPredictionOrder(new_refs, [&](const CodeRef& ref) {
    int64_t correction = GetSignedVarint(corrections, &pos, kWhat);
    if (WrapToField(ref.form, correction) != correction) throw Corruption(kWhat, " has a correction out of range");
    int32_t value = WrapToField(ref.form, int64_t{predictor.Predict(ref)} + correction);
    WriteField(&target, ref, value);
    predictor.Learn(ref, value);
  });
  if (pos != corrections.size()) throw Corruption(kWhat, " has more corrections than reference fields");
  return target;
}

}  // namespace

std::optional<ElfStreams> ElfDiff(std::string_view base, std::string_view target) {
  std::optional<ElfLayout> old_layout = ReadElfLayout(base), new_layout = ReadElfLayout(target);
  if (!old_layout || !new_layout || old_layout->machine != new_layout->machine) return std::nullopt;
  std::vector<CodeRef> old_refs = FindCodeRefs(base, *old_layout);
  std::vector<CodeRef> new_refs = FindCodeRefs(target, *new_layout);
  if (new_refs.empty()) return std::nullopt;
  std::string masked_base(base), masked_target(target);
  MaskCodeRefs(&masked_base, old_refs);
  MaskCodeRefs(&masked_target, new_refs);
  ElfStreams out;
  out.model = ModelOf(new_layout->machine);
  out.masked = BsdiffDiff(masked_base, masked_target);
  masked_target = std::string();
  std::string raw = BsdiffPackRaw(out.masked);
  std::vector<BsdiffRegion> regions;
  BsdiffApply(masked_base, raw, target.size(), &regions);
  masked_base = std::string();
  FieldStarts old_starts(old_refs);
  Predictor predictor(*old_layout, *new_layout, old_refs, old_starts, std::move(regions), new_refs.size());
  InPredictionOrder(new_refs, [&](const CodeRef& ref) {
    int32_t predicted = predictor.Predict(ref);
    PutSignedVarint(&out.corrections, WrapToField(ref.form, int64_t{ref.value} - predicted));
    predictor.Learn(ref, ref.value);
  });
  try {
    if (Rebuild(std::string(base), raw, out.corrections, target.size(), out.model) != target) return std::nullopt;
  } catch (const Error&) {
    return std::nullopt;  // the masked target decodes to other fields: not this method's file
  }
  return out;
}

std::string ElfPack(const ElfStreams& streams, int zstd_level) {
  std::string out(1, static_cast<char>(streams.model));
  PutBytes(&out, BsdiffPack(streams.masked, zstd_level));
  return out + CompressWithPrefix(streams.corrections, {}, zstd_level);
}

std::string ElfPackRaw(const ElfStreams& streams) {
  std::string out(1, static_cast<char>(streams.model));
  PutBytes(&out, BsdiffPackRaw(streams.masked));
  return out + streams.corrections;
}

std::string ElfApply(std::string base, std::string_view payload, uint64_t target_size) {
  if (payload.empty()) throw Corruption(kWhat, " is empty");
  uint8_t model = static_cast<uint8_t>(payload[0]);
  if (model != kModelX86_64 && model != kModelAarch64) {
    throw Corruption(kWhat, " has unknown reference model ", std::to_string(model));
  }
  size_t pos = 1;
  std::string_view bsdiff = GetBytes(payload, &pos, kWhat);
  std::string_view corrections = payload.substr(pos);
  if (bsdiff.empty() || static_cast<uint8_t>(bsdiff[0]) == kBsdiffRawMode) {
    return Rebuild(std::move(base), bsdiff, corrections, target_size, model);
  }
  std::optional<uint64_t> n = compress::ZstdDeclaredSize(corrections);
  if (!n || *n > 2 * target_size) throw Corruption(kWhat, " has a bad correction stream size");
  return Rebuild(std::move(base), bsdiff, DecompressWithPrefix(corrections, {}, *n, kWhat), target_size, model);
}

}  // namespace outpost::delta
