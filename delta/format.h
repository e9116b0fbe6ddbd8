// Constants of the delta container (docs/layer-delta-format.md), shared by encoder and applier.
#pragma once

#include <cstdint>
#include <string_view>

#include "delta/layer_delta.h"

namespace outpost::delta::format {

inline constexpr std::string_view kMagic = "OPDL";
inline constexpr uint8_t kVersion = 4;     // what the encoder writes (4: ELF_REF's AArch64 model)
inline constexpr uint8_t kFirstSplitVersion = 2;  // op streams split by kind into segments
inline constexpr uint8_t kFirstElfVersion = 3;    // the ELF_REF op
inline constexpr size_t kHeaderBytes = 4 + 1 + 1 + 8 + 32;

enum class Kind : uint8_t { kLayer = 1, kRaw = 2 };

// base_off fields are zigzag varints relative to the end of the previous base range any op
// referred to (0 at the start), so runs of entries in base order cost one or two bytes each.
enum class Op : uint8_t {
  kEnd = 0x00,      // target_size, sha256[32]
  kLiteral = 0x01,  // len, bytes[len]
  kCopy = 0x02,     // base_off, len
  kAdd = 0x03,      // base_off, len, bytes[len] (added bytewise to base[base_off, +len))
  kZstdRef = 0x04,  // base_off, base_len, target_len, payload_len, payload
  kBsdiff = 0x05,   // same fields
  kRsync = 0x06,    // same fields
  kGzip = 0x07,     // same fields (inner-gzip method)
  kHeader = 0x08,   // flags, base_off, blocks[, bytes[n]]: a tar header predicted from its base
                    // header (delta/header_op.h), optionally followed by its copied content
  kBsdiffSplit = 0x09,  // base_off, base_len, target_len, control_len, diff_len, extra_len
                        // (version 2: a BSDIFF whose streams sit in the segment's streams)
  kElfRef = 0x0A,  // same fields as ZSTDREF (version 3: an ELF file with its code references
                   // modelled, delta/elf_delta.h)
};

// Version 2 segments: the side streams, in the order their lengths and bytes are written.
enum Stream { kOps = 0, kAdds, kControl, kDiff, kFresh, kStreamCount };

// Bounds the applier enforces before allocating (a corrupt delta cannot make it allocate more).
inline constexpr uint64_t kMaxTargetWindow = kWindowBytes;
inline constexpr uint64_t kMaxBaseWindow = 2 * kWindowBytes;
inline constexpr uint64_t kMaxPayload = 2 * kWindowBytes + (1 << 20);
inline constexpr uint64_t kMaxEntryHeader = 16 << 20;  // one entry's header blocks
inline constexpr uint64_t kMaxSegmentBytes = 32 << 20;  // a segment's side streams, together
inline constexpr uint64_t kMaxDictionary = 4 << 20;     // the fresh stream's base reference
// LITERALs up to this size take their bytes from the fresh stream, longer ones from the bulk.
inline constexpr uint64_t kMaxFreshLiteral = 64 << 10;

}  // namespace outpost::delta::format
