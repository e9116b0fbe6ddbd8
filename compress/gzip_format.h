// The gzip member format (RFC 1952): header fields kept byte for byte, and the trailer.
//
// A recipe stores a blob's header bytes verbatim, so every field (FLG, MTIME, XFL, OS, FEXTRA,
// FNAME, FCOMMENT, FHCRC) comes back exactly; this file parses those bytes into fields for
// detection and reporting.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/io.h"

namespace outpost::compress {

inline constexpr uint8_t kGzipId1 = 0x1f;
inline constexpr uint8_t kGzipId2 = 0x8b;
inline constexpr uint8_t kGzipDeflate = 8;
inline constexpr size_t kGzipTrailerBytes = 8;  // CRC32, ISIZE (both little-endian)

// FLG bits.
inline constexpr uint8_t kFlagText = 0x01;
inline constexpr uint8_t kFlagHcrc = 0x02;
inline constexpr uint8_t kFlagExtra = 0x04;
inline constexpr uint8_t kFlagName = 0x08;
inline constexpr uint8_t kFlagComment = 0x10;

// XFL and OS values the known writers use.
inline constexpr uint8_t kXflNone = 0;
inline constexpr uint8_t kXflBest = 2;
inline constexpr uint8_t kXflFastest = 4;
inline constexpr uint8_t kOsFat = 0;      // Java's GZIPOutputStream
inline constexpr uint8_t kOsUnix = 3;     // zlib, GNU gzip, pigz
inline constexpr uint8_t kOsUnknown = 255;  // Go, pgzip, Python

// One member header, parsed; `raw` holds its exact bytes (magic through the optional CRC16).
struct GzipHeader {
  uint8_t flags = 0;
  uint32_t mtime = 0;
  uint8_t xfl = 0;
  uint8_t os = kOsUnknown;
  std::optional<std::string> extra;    // FEXTRA payload (without its length)
  std::optional<std::string> name;     // FNAME without the terminating NUL
  std::optional<std::string> comment;  // FCOMMENT without the terminating NUL
  std::optional<uint16_t> header_crc;  // FHCRC value as stored
  std::string raw;

  // Parses a header from the front of `bytes`. Returns nullopt if `bytes` ends before the header
  // does (the caller may supply more); throws Corruption for a bad magic, a method other than
  // deflate, reserved FLG bits, or an FHCRC that does not match.
  static std::optional<GzipHeader> Parse(std::string_view bytes);
  // Parses `raw` bytes that must be exactly one complete header (a recipe's hdr=). Throws
  // InvalidArgument otherwise.
  static GzipHeader FromRaw(std::string_view raw);
};

// The 8-byte trailer for uncompressed data with this CRC32 and length (ISIZE = length mod 2^32).
std::string GzipTrailer(uint32_t crc, uint64_t length);

}  // namespace outpost::compress
