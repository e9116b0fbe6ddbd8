// The ELF_REF method: a changed x86-64 or AArch64 ELF file delta-encoded with its code references
// modelled.
// A rebuilt binary moves thousands of call, branch and RIP-relative operands; a bsdiff of the raw
// bytes pays for each of them. Here the reference fields (delta/elf_refs.h) are zeroed in both
// files, the bsdiff-style matcher runs on the masked files, and each target field is rebuilt as
// a predicted value plus a correction (mostly zero): the old file's reference at the matched
// location, its target mapped old -> new where an earlier field showed it moved (exact, so it
// goes first), else through the matcher's difference runs, else by its section's shift. The
// .eh_frame_hdr table comes last: it lists the FDEs found by then, sorted by function.
// Payload layout: docs/layer-delta-format.md, "ELF_REF payload".
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "delta/bsdiff.h"

namespace outpost::delta {

// An ELF_REF delta before packing: the bsdiff streams of the masked files and one correction
// per target reference field (zigzag varints, in file order).
struct ElfStreams {
  uint8_t model = 1;  // the reference model: 1 x86-64, 2 AArch64 (the payload's first byte)
  BsdiffStreams masked;
  std::string corrections;
};

// Encodes `target` against `base` with the ELF_REF method and proves the result by rebuilding
// the target from it byte for byte. nullopt when the method does not apply: the files are not
// both x86-64 or both AArch64 ELF files with section headers, the target has no reference field,
// or the rebuilt bytes differ. Memory: BsdiffDiff's, plus a masked copy of each file.
std::optional<ElfStreams> ElfDiff(std::string_view base, std::string_view target);

// The ELF_REF payload for `streams`: the bsdiff streams packed at `zstd_level` (BsdiffPack) and
// the corrections as a zstd frame at the same level.
std::string ElfPack(const ElfStreams& streams, int zstd_level);

// The ELF_REF payload for `streams` uncompressed (BsdiffPackRaw, raw corrections), left to the
// delta's outer zstd stream: for small files, as BsdiffPackRaw is.
std::string ElfPackRaw(const ElfStreams& streams);

// Rebuilds the target from `base` (consumed: masked in place) and a payload made by ElfPack.
// Throws Corruption if the payload is malformed, the base or the rebuilt file is not an ELF file
// the method models, the corrections do not match the rebuilt file's reference fields one for
// one, or the result is not exactly `target_size` bytes. A wrong correction yields a wrong file,
// which the delta's digests catch.
std::string ElfApply(std::string base, std::string_view payload, uint64_t target_size);

}  // namespace outpost::delta
