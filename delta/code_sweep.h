// The linear sweep of an ELF file's code for the ELF_REF method (delta/elf_refs.h): decodes one
// x86-64 instruction after another (delta/x86_decode.h) and yields their operand fields, with
// the rules of docs/layer-delta-format.md ("ELF_REF payload").
//
// A sweep can record what it saw (CodeTrace). A later sweep of a file whose masked code is mostly
// the traced file's masked code, moved (an applier's rebuilt file against its base), then takes
// the traced fields of each stretch the two share instead of decoding it again. A decode reads at
// most 15 bytes from where it starts, so once both sweeps stand at the same instruction boundary
// of equal bytes they step alike until 15 bytes before the equal stretch (or either swept range)
// ends. The fields found are exactly those a full decode finds; only the time differs.
#pragma once

#include <cstdint>
#include <string_view>
#include <utility>
#include <vector>

#include "delta/bsdiff.h"
#include "delta/elf_refs.h"

namespace outpost::delta {

// What the sweeps of one file's code ranges saw.
struct CodeTrace {
  // One swept code range, [begin, end) in the file, of a section loaded at address - offset
  // (mod 2^64) past its file bytes.
  struct Range {
    uint64_t begin = 0, end = 0;
    uint64_t address_minus_offset = 0;
  };
  std::vector<Range> ranges;      // ascending, disjoint
  std::vector<uint64_t> visited;  // a bit per file offset: a decode started there
  // Per failed decode, ascending by offset: (offset, the furthest end of the bytes any failed
  // decode up to this one read).
  std::vector<std::pair<uint64_t, uint64_t>> failed;

  // True when a decode of the traced sweep started at `offset`.
  bool Visited(uint64_t offset) const {
    return offset / 64 < visited.size() && (visited[offset / 64] >> (offset % 64) & 1) != 0;
  }
};

// A traced file another file is swept against: its masked bytes, its fields and trace, and the
// difference runs (delta/bsdiff.h, target order) saying which target bytes came from which of
// its bytes.
struct KnownCode {
  std::string_view masked;          // the traced file with its fields masked
  const ElfLayout* layout = nullptr;
  const std::vector<CodeRef>* refs = nullptr;  // its fields, in file order
  const CodeTrace* trace = nullptr;
  const std::vector<BsdiffRegion>* runs = nullptr;
};

// Appends to `out` the fields of file[begin, end), which belongs to the executable `section` of
// `layout`: per instruction its 4-byte displacement and its 4-byte first immediate, each relative
// (RIP-relative displacement, branch displacement) or absolute (the others, references only in a
// fixed-address file), unless the field overlaps reserved bytes or bytes a failed decode read.
// Records the sweep in `trace` when given; takes stretches from `known` when given (the result is
// the same).
void SweepCode(std::string_view file, const ElfLayout& layout, const ElfSection& section, uint64_t begin,
               uint64_t end, std::vector<CodeRef>* out, CodeTrace* trace, const KnownCode* known);

}  // namespace outpost::delta
