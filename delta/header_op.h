// The rules of the HEADER op (docs/layer-delta-format.md), shared by the encoder and the
// applier: how a target tar header is predicted from its base header before the differences are
// added, and how its checksum is recomputed.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace outpost::delta::header_op {

// Bits of the HEADER op's flags byte; any other bit set is Corruption.
inline constexpr uint8_t kDiff = 0x01;           // n difference bytes follow
inline constexpr uint8_t kPreviousMtime = 0x02;  // mtime field taken from the previous HEADER op
inline constexpr uint8_t kChecksum = 0x04;       // checksum field recomputed the standard way
inline constexpr uint8_t kContent = 0x08;        // the entry's content is copied from the base
inline constexpr uint8_t kAllFlags = 0x0f;

inline constexpr size_t kMtimeOffset = 136;  // in a ustar header block
inline constexpr size_t kChecksumOffset = 148;
inline constexpr size_t kChecksumBytes = 8;

// The 12-byte mtime field of a header block; twelve NUL bytes before the first HEADER op.
using MtimeField = std::array<char, 12>;

// Which remembered mtime MTIME takes in format version 2: directories (typeflag '5' in the last
// block of `prediction`, the base header before the differences) have their own, since an
// update often gives them another mtime than the files it edits. Always 0 in version 1.
inline constexpr size_t kMtimeSlots = 2;
size_t MtimeSlot(std::string_view prediction, uint8_t version);

// The mtime fields MTIME takes, one per slot: the last HEADER op's of that slot; a slot no HEADER
// op has used yet follows the other (twelve NUL bytes before the first HEADER op).
class MtimeMemory {
 public:
  const MtimeField& Get(size_t slot) const { return fields_[slot]; }
  void Remember(size_t slot, const MtimeField& field) {
    used_[slot] = true;
    for (size_t s = 0; s < kMtimeSlots; ++s) {
      if (s == slot || !used_[s]) fields_[s] = field;
    }
  }

 private:
  MtimeField fields_[kMtimeSlots]{};
  bool used_[kMtimeSlots]{};
};

// The mtime field of the last 512-byte block of `bytes` (at least one block long).
MtimeField LastMtime(std::string_view bytes);
// Replaces the mtime field of the last 512-byte block of `*bytes` with `mtime`.
void SetLastMtime(std::string* bytes, const MtimeField& mtime);
// Writes the standard checksum into the last 512-byte block of `*bytes`: the sum of the block's
// bytes with the checksum field counted as spaces, as six octal digits, NUL, space.
void SetLastChecksum(std::string* bytes);

}  // namespace outpost::delta::header_op
