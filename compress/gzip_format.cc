#include "compress/gzip_format.h"

#include <zlib.h>

#include <cstring>

#include "common/error.h"

namespace outpost::compress {
namespace {

constexpr size_t kFixedHeaderBytes = 10;
constexpr uint8_t kReservedFlags = 0xe0;

uint32_t LoadLe32(const uint8_t* p) {
  return uint32_t{p[0]} | uint32_t{p[1]} << 8 | uint32_t{p[2]} << 16 | uint32_t{p[3]} << 24;
}

// Reads a NUL-terminated field starting at `*pos`; false if the NUL is not in `bytes` yet.
bool TakeZeroTerminated(std::string_view bytes, size_t* pos, std::optional<std::string>* out) {
  size_t end = bytes.find('\0', *pos);
  if (end == std::string_view::npos) return false;
  *out = std::string(bytes.substr(*pos, end - *pos));
  *pos = end + 1;
  return true;
}

}  // namespace

std::optional<GzipHeader> GzipHeader::Parse(std::string_view bytes) {
  const auto* b = reinterpret_cast<const uint8_t*>(bytes.data());
  if (bytes.size() >= 2 && (b[0] != kGzipId1 || b[1] != kGzipId2)) {
    throw Corruption("not a gzip stream (magic bytes ", HexEncode(b, 2), ")");
  }
  if (bytes.size() < kFixedHeaderBytes) return std::nullopt;
  if (b[2] != kGzipDeflate) throw Corruption("gzip compression method ", std::to_string(b[2]), " is not deflate");
  GzipHeader h;
  h.flags = b[3];
  if (h.flags & kReservedFlags) throw Corruption("gzip header has reserved flag bits set");
  h.mtime = LoadLe32(b + 4);
  h.xfl = b[8];
  h.os = b[9];
  size_t pos = kFixedHeaderBytes;
  if (h.flags & kFlagExtra) {
    if (bytes.size() < pos + 2) return std::nullopt;
    size_t len = b[pos] | size_t{b[pos + 1]} << 8;
    if (bytes.size() < pos + 2 + len) return std::nullopt;
    h.extra = std::string(bytes.substr(pos + 2, len));
    pos += 2 + len;
  }
  if ((h.flags & kFlagName) && !TakeZeroTerminated(bytes, &pos, &h.name)) return std::nullopt;
  if ((h.flags & kFlagComment) && !TakeZeroTerminated(bytes, &pos, &h.comment)) return std::nullopt;
  if (h.flags & kFlagHcrc) {
    if (bytes.size() < pos + 2) return std::nullopt;
    h.header_crc = static_cast<uint16_t>(b[pos] | b[pos + 1] << 8);
    uint32_t crc = crc32(0, b, static_cast<uInt>(pos));
    if ((crc & 0xffff) != *h.header_crc) throw Corruption("gzip header CRC16 does not match");
    pos += 2;
  }
  h.raw = std::string(bytes.substr(0, pos));
  return h;
}

GzipHeader GzipHeader::FromRaw(std::string_view raw) {
  std::optional<GzipHeader> h;
  try {
    h = Parse(raw);
  } catch (const Error& e) {
    throw InvalidArgument("gzip header bytes are invalid: ", e.what());
  }
  if (!h || h->raw.size() != raw.size()) {
    throw InvalidArgument("gzip header bytes are not exactly one complete header");
  }
  return *h;
}

std::string GzipTrailer(uint32_t crc, uint64_t length) {
  uint32_t isize = static_cast<uint32_t>(length);
  std::string t(kGzipTrailerBytes, '\0');
  for (int i = 0; i < 4; ++i) {
    t[i] = static_cast<char>(crc >> (8 * i));
    t[4 + i] = static_cast<char>(isize >> (8 * i));
  }
  return t;
}

}  // namespace outpost::compress
