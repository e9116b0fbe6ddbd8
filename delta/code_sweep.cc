#include "delta/code_sweep.h"

#include <algorithm>
#include <cstring>
#include <optional>

#include "delta/x86_decode.h"

namespace outpost::delta {
namespace {

// The shortest shared stretch worth comparing and copying instead of decoding.
constexpr uint64_t kMinStretch = 64;

// How many bytes a and b share from their start, of the first `n`.
uint64_t EqualPrefix(const char* a, const char* b, uint64_t n) {
  constexpr uint64_t kBlock = 4096;
  uint64_t done = 0;
  while (done < n) {
    uint64_t block = std::min(kBlock, n - done);
    if (std::memcmp(a + done, b + done, block) != 0) {
      while (a[done] == b[done]) ++done;
      return done;
    }
    done += block;
  }
  return n;
}

// Takes the traced fields of the stretches one swept range of a file shares with a known file.
class Reuse {
 public:
  Reuse(std::string_view file, const ElfLayout& layout, const ElfSection& section, uint64_t end,
        const KnownCode& known)
      : file_(file), layout_(layout), known_(known), trace_(*known.trace), end_(end),
        address_minus_offset_(section.address - section.offset) {}

  // False when Skip at `pos` would return false without looking: only then is Skip worth a call.
  bool Due(uint64_t pos) const { return pos >= next_try_; }

  // When the sweep standing at instruction boundary `*pos` (Due), with failed decodes' bytes read
  // up to `*unread`, stands where the traced sweep did on equal bytes: appends the fields of the
  // stretch both step through alike, moves *pos past it and *unread along, and returns true.
  bool Skip(uint64_t* pos, uint64_t* unread, std::vector<CodeRef>* out) {
    const BsdiffRegion* run = RunAt(*pos);
    if (run == nullptr) return false;
    uint64_t q = run->old_offset + (*pos - run->new_offset);
    next_try_ = *pos + 1;
    if (!trace_.Visited(q) || *unread > *pos || UnreadBefore(q) > q) return false;
    const CodeTrace::Range& range = RangeAt(q);
    uint64_t span = std::min({run->new_offset + run->length - *pos, end_ - *pos, range.end - q});
    uint64_t equal = EqualPrefix(file_.data() + *pos, known_.masked.data() + q, span);
    if (equal < span) next_try_ = *pos + equal + 1;  // nothing to gain before the differing byte
    if (equal < kMinStretch) return false;
    // The traced boundaries up to `last` decode only equal bytes, and as many of them.
    uint64_t last = q + equal - kMaxX86Length;
    uint64_t resume = NextVisited(last + 1, range.end);
    uint64_t shift = *pos - q;  // mod 2^64
    if (layout_.TouchesReserved(*pos, resume - q) || known_.layout->TouchesReserved(q, resume - q)) {
      return false;  // fields next to reserved bytes are left out: let the decoder judge them
    }
    CopyFields(q, resume, shift, range, out);
    uint64_t read = UnreadBefore(resume);
    if (read > q) *unread = std::max(*unread, read + shift);
    *pos = resume + shift;
    return true;
  }

 private:
  // The run holding target offset `at` (null: none), walking on from the previous answer.
  const BsdiffRegion* RunAt(uint64_t at) {
    const std::vector<BsdiffRegion>& runs = *known_.runs;
    if (run_ == SIZE_MAX) {
      run_ = static_cast<size_t>(std::partition_point(runs.begin(), runs.end(), [&](const BsdiffRegion& r) {
                                   return r.new_offset + r.length <= at;
                                 }) - runs.begin());
    }
    while (run_ < runs.size() && runs[run_].new_offset + runs[run_].length <= at) ++run_;
    if (run_ == runs.size()) {
      next_try_ = UINT64_MAX;
      return nullptr;
    }
    if (runs[run_].new_offset > at) {
      next_try_ = runs[run_].new_offset;
      return nullptr;
    }
    return &runs[run_];
  }

  // The traced range holding `at`, a visited offset.
  const CodeTrace::Range& RangeAt(uint64_t at) const {
    auto it = std::upper_bound(trace_.ranges.begin(), trace_.ranges.end(), at,
                               [](uint64_t v, const CodeTrace::Range& r) { return v < r.begin; });
    return *(it - 1);
  }

  // The furthest end of the bytes the traced failed decodes before `at` read (0: none).
  uint64_t UnreadBefore(uint64_t at) const {
    auto it = std::lower_bound(trace_.failed.begin(), trace_.failed.end(), at,
                               [](const std::pair<uint64_t, uint64_t>& f, uint64_t v) { return f.first < v; });
    return it == trace_.failed.begin() ? 0 : (it - 1)->second;
  }

  // The first visited offset in [from, limit), or `limit` (the traced sweep stopped there).
  uint64_t NextVisited(uint64_t from, uint64_t limit) const {
    while (from < limit && !trace_.Visited(from)) ++from;
    return from;
  }

  // Appends the traced fields in [begin, end), moved by `shift`, with this file's values.
  void CopyFields(uint64_t begin, uint64_t end, uint64_t shift, const CodeTrace::Range& range,
                  std::vector<CodeRef>* out) const {
    const std::vector<CodeRef>& refs = *known_.refs;
    auto it = std::lower_bound(refs.begin(), refs.end(), begin,
                               [](const CodeRef& r, uint64_t v) { return r.field < v; });
    for (; it != refs.end() && it->field < end; ++it) {
      uint64_t field = it->field + shift;
      uint64_t next_ip = it->next_ip - range.address_minus_offset + shift + address_minus_offset_;
      out->push_back(CodeRef{field, next_ip, LoadLe<int32_t>(file_, field), it->absolute});
    }
  }

  std::string_view file_;
  const ElfLayout& layout_;
  const KnownCode& known_;
  const CodeTrace& trace_;
  uint64_t end_;
  uint64_t address_minus_offset_;  // of the section swept
  uint64_t next_try_ = 0;          // Skip does not look before this offset
  size_t run_ = SIZE_MAX;          // the first run not ending before the last offset asked
};

}  // namespace

void SweepCode(std::string_view file, const ElfLayout& layout, const ElfSection& section, uint64_t begin,
               uint64_t end, std::vector<CodeRef>* out, CodeTrace* trace, const KnownCode* known) {
  const auto* bytes = reinterpret_cast<const uint8_t*>(file.data());
  if (trace != nullptr) trace->ranges.push_back({begin, end, section.address - section.offset});
  std::optional<Reuse> reuse;
  if (known != nullptr && known->layout->fixed_address == layout.fixed_address) {
    reuse.emplace(file, layout, section, end, *known);
  }
  // Reserved bytes lie outside code in files from any linker: check each field only when not.
  bool near_reserved = layout.TouchesReserved(begin, end - begin);
  // Each instruction's two candidate fields are written here and kept by counting (no branch on
  // what the instruction is, which mixed code mispredicts), then moved to `out` in batches.
  constexpr size_t kBatch = 64;
  CodeRef batch[kBatch];
  size_t kept = 0;
  auto flush = [&] {
    out->insert(out->end(), batch, batch + kept);
    kept = 0;
  };
  uint64_t last_load = file.size() - kFieldBytes;  // a candidate that is no field may lie past it
  uint64_t unread = begin;  // where the bytes failed decodes read end
  for (uint64_t pos = begin; pos < end;) {
    if (reuse && reuse->Due(pos)) {
      flush();  // Skip appends to `out` itself
      if (reuse->Skip(&pos, &unread, out)) continue;
    }
    if (trace != nullptr) trace->visited[pos / 64] |= uint64_t{1} << (pos % 64);
    X86Insn insn;
    if (!DecodeX86(bytes + pos, end - pos, &insn)) {
      unread = std::max(unread, pos + insn.read);
      if (trace != nullptr) {
        uint64_t before = trace->failed.empty() ? 0 : trace->failed.back().second;
        trace->failed.emplace_back(pos, std::max(before, pos + insn.read));
      }
      ++pos;  // no instruction here: the next byte may start one
      continue;
    }
    uint64_t next_ip = section.address + (pos + insn.length - section.offset);
    auto candidate = [&](uint8_t offset, uint8_t size, bool absolute) {
      uint64_t at = pos + offset;
      bool keep = (size == kFieldBytes) & (!absolute | layout.fixed_address) & (at >= unread);
      if (near_reserved) keep = keep && !layout.TouchesReserved(at, kFieldBytes);
      batch[kept] = CodeRef{at, next_ip, LoadLe<int32_t>(file, std::min(at, last_load)), absolute};
      kept += keep ? 1 : 0;
    };
    candidate(insn.disp_offset, insn.disp_size, !insn.rip_relative);
    candidate(insn.imm_offset, insn.imm_size, !insn.imm_relative);
    if (kept > kBatch - 2) flush();
    pos += insn.length;
  }
  flush();
}

}  // namespace outpost::delta
