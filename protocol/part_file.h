// Sneakernet parts: a bundle file cut into pieces that fit the media an operator carries to a
// site, each piece with a small self-describing header (docs/sneakernet-format.md).
//
//   part header (magic "OUTPOSTP", version, index/count, offset, length, part sha256, the
//   bundle's digest, size and head size, the hub's transfer id, site, as, signature, checksum)
//   | the part's bytes of the bundle file
//
// Every part names its bundle, its site and its place, so parts are taken in any order; a
// missing or damaged one is named with the file name to carry again. With the hub's sign key
// each header is Ed25519-signed (the part's sha256 included), so the agent's verify_key
// authenticates the carriage (site, transfer, tag) and every byte, as TLS does on the link.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "common/digest.h"
#include "protocol/signing.h"

namespace outpost::protocol {

inline constexpr uint32_t kPartFormatVersion = 1;
// At most this many parts per bundle (the name's "partNNNNofNNNN" stays short and sortable).
inline constexpr uint32_t kMaxParts = 9999;
// The smallest --max-part-size: a header (at most ~450 bytes) and some bundle bytes.
inline constexpr uint64_t kMinPartBytes = 4096;

// What every part of one carried bundle repeats: the transfer as the hub's work list gives it.
struct Carriage {
  Digest bundle;              // sha256 of the whole bundle file
  uint64_t bundle_bytes = 0;  // the bundle file's size
  uint64_t head_bytes = 0;    // its head's size (docs/bundle-format.md)
  int64_t transfer = 0;       // the hub's transfer id
  std::string site;           // the site it is for: 1..64 bytes
  std::string as;             // "REPO:TAG" the site publishes it as, "" for none: 0..255 bytes
};

// One part's header, checked (checksum, signature when a key was given).
struct PartHeader {
  Carriage carriage;
  uint32_t index = 0;         // 1-based
  uint32_t count = 0;
  uint64_t offset = 0;        // where the part's bytes start in the bundle file
  uint64_t length = 0;        // how many bytes of the bundle file the part carries
  Digest part_digest;         // sha256 of those bytes
  uint64_t header_bytes = 0;  // where they start in the part file
  std::optional<PublicKeyBytes> signer;
};

// "SITE-tTRANSFER[-REPO_TAG]-partIofN.outpost" ("oslo-t12-app_2.0-part2of3.outpost"): what an
// operator reads on the media. Characters other than [A-Za-z0-9._-] in `as` become '_'.
std::string PartFileName(const Carriage& carriage, uint32_t index, uint32_t count);

// Cuts the bundle file `bundle` (whose digest, size and head size `carriage` gives) into parts
// of at most `max_part_bytes` bytes each (headers included) written into `dir` (created), signed
// with `key` when given. Returns their paths, part 1 first. Reads the bundle once; throws
// Corruption when its bytes are not `carriage.bundle`, InvalidArgument for a max below
// kMinPartBytes, more than kMaxParts parts or a site/as out of bounds, IOError.
std::vector<std::filesystem::path> WriteParts(const std::filesystem::path& bundle, const Carriage& carriage,
                                              uint64_t max_part_bytes, const std::filesystem::path& dir,
                                              const SigningKey* key);

// Reads and checks the header of the part file `path` (not its bytes: AssembleParts does).
// Throws NotFound, Corruption (not a part, damaged header, truncated file), Unsupported (a newer
// part version), Security (with `verify_key`: unsigned, another signer, a changed header).
PartHeader ReadPartHeader(const std::filesystem::path& path, const SigningKey* verify_key);

// A part file given to an import, with its checked header.
struct CarriedPart {
  std::filesystem::path path;
  PartHeader header;
};

// The parts of one bundle found among the files given to an import.
struct CarriedBundle {
  Carriage carriage;
  uint32_t count = 0;
  std::vector<std::optional<CarriedPart>> parts;  // [index - 1]: the file, if given
  std::vector<std::string> damaged;  // files whose header was unreadable ("FILE: why")
};

// Reads the header of every file and groups them by bundle (in the order first seen).
// A file with an unreadable header is kept as `damaged` on every bundle, so a missing part's
// message can name it; a Security error (signature) is thrown at once. Duplicates of one part
// are taken once. Throws Security, NotFound (a file that does not exist), Unsupported.
std::vector<CarriedBundle> GroupParts(const std::vector<std::filesystem::path>& files, const SigningKey* verify_key);

// Writes the bundle of `carried` to `out` (atomically), reading each part's bytes once and
// checking them against the part's sha256 and the whole against the bundle digest. Throws
// NotFound when parts are missing and Corruption when one is damaged (truncated, changed bytes)
// or their bytes do not make the bundle: one message naming every such part, as
// "part 2 of 3 missing: carry oslo-t12-app_2.0-part2of3.outpost again". `out` is then untouched.
void AssembleParts(const CarriedBundle& carried, const std::filesystem::path& out);

}  // namespace outpost::protocol
