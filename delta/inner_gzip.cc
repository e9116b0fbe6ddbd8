#include "delta/inner_gzip.h"

#include <zlib.h>

#include "common/error.h"
#include "compress/compression.h"
#include "compress/gzip_format.h"
#include "deflate/gnu_gzip.h"
#include "delta/layer_delta.h"
#include "delta/varint.h"
#include "delta/zstd_util.h"

namespace outpost::delta {
namespace {

constexpr std::string_view kWhat = "gzip payload";

// Decompresses one gzip member holding at most kWindowBytes; nullopt if it does not inflate
// cleanly to its end.
std::optional<std::string> Gunzip(std::string_view gz) {
  z_stream z{};
  if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK) return std::nullopt;
  std::string out;
  std::string buf(1 << 16, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(gz.data()));
  z.avail_in = static_cast<uInt>(gz.size());
  int rc = Z_OK;
  while (rc == Z_OK && out.size() <= kWindowBytes) {
    z.next_out = reinterpret_cast<Bytef*>(buf.data());
    z.avail_out = static_cast<uInt>(buf.size());
    rc = inflate(&z, Z_NO_FLUSH);
    out.append(buf.data(), buf.size() - z.avail_out);
    if (rc == Z_BUF_ERROR && z.avail_in == 0) break;
  }
  inflateEnd(&z);
  if (rc != Z_STREAM_END || out.size() > kWindowBytes) return std::nullopt;
  return out;
}

// The header fields GNU gzip would have written `gz`'s header with, or nullopt.
std::optional<deflate::GnuGzipHeader> HeaderOf(std::string_view gz) {
  if (gz.size() < 18 || !LooksGzipped(gz) || static_cast<uint8_t>(gz[9]) != 3) return std::nullopt;
  uint8_t flags = static_cast<uint8_t>(gz[3]);
  if ((flags & ~compress::kFlagName) != 0) return std::nullopt;
  deflate::GnuGzipHeader h;
  for (int i = 0; i < 4; ++i) h.mtime |= static_cast<uint32_t>(static_cast<uint8_t>(gz[4 + i])) << (8 * i);
  uint8_t xfl = static_cast<uint8_t>(gz[8]);
  h.level = xfl == 2 ? 9 : xfl == 4 ? 1 : 6;
  if (flags & compress::kFlagName) {
    size_t end = gz.find('\0', 10);
    if (end == std::string_view::npos) return std::nullopt;
    h.name = std::string(gz.substr(10, end - 10));
  }
  return h;
}

std::string Compress(const std::string& plain, const deflate::GnuGzipHeader& header) {
  StringReader in(plain);
  StringWriter out;
  deflate::GnuGzipCompress(in, header, out);
  return std::move(out.str());
}

std::string BasePlain(std::string_view base_gz) {
  if (base_gz.empty()) return {};
  std::optional<std::string> plain = Gunzip(base_gz);
  if (!plain) throw Corruption(kWhat, ": the base file does not decompress");
  return std::move(*plain);
}

}  // namespace

bool LooksGzipped(std::string_view bytes) {
  return compress::SniffCompression(bytes) == compress::Compression::kGzip;
}

std::optional<InnerGzip> OpenInnerGzip(std::string_view base_gz, std::string_view target_gz) {
  std::optional<deflate::GnuGzipHeader> header = HeaderOf(target_gz);
  if (!header) return std::nullopt;
  std::optional<std::string> plain = Gunzip(target_gz);
  if (!plain || Compress(*plain, *header) != target_gz) return std::nullopt;
  return InnerGzip{std::move(*header), std::move(*plain), BasePlain(base_gz)};
}

std::string EncodeInnerGzip(const InnerGzip& opened, int zstd_level) {
  std::string payload;
  PutVarint(&payload, static_cast<uint64_t>(opened.header.level));
  PutVarint(&payload, opened.header.mtime);
  PutVarint(&payload, opened.header.name.size());
  payload += opened.header.name;
  payload += CompressWithPrefix(opened.plain, opened.base_plain, zstd_level);
  return payload;
}

std::string ApplyInnerGzip(std::string_view base_gz, std::string_view payload, uint64_t target_size) {
  size_t pos = 0;
  deflate::GnuGzipHeader header;
  uint64_t level = GetVarint(payload, &pos, kWhat);
  uint64_t mtime = GetVarint(payload, &pos, kWhat);
  uint64_t name_len = GetVarint(payload, &pos, kWhat);
  if (level < 1 || level > 9 || mtime > UINT32_MAX || name_len > payload.size() - pos) {
    throw Corruption(kWhat, " has bad header fields");
  }
  header.level = static_cast<int>(level);
  header.mtime = static_cast<uint32_t>(mtime);
  header.name = std::string(payload.substr(pos, name_len));
  std::string_view frame = payload.substr(pos + name_len);
  std::optional<uint64_t> n = compress::ZstdDeclaredSize(frame);
  if (!n || *n > kWindowBytes) throw Corruption(kWhat, " has a bad content size");
  std::string plain = DecompressWithPrefix(frame, BasePlain(base_gz), *n, kWhat);
  std::string gz = Compress(plain, header);
  if (gz.size() != target_size) throw Corruption(kWhat, " rebuilds the wrong number of bytes");
  return gz;
}

}  // namespace outpost::delta
