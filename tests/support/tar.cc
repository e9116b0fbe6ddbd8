#include "tests/support/tar.h"

#include <cstdio>
#include <cstring>

#include "common/error.h"
#include "common/io.h"
#include "tar/tar_writer.h"

namespace outpost::testing {
namespace {

// One ustar block naming `name` (cut at 100 bytes) with its checksum.
std::string UstarBlock(std::string_view name, uint64_t size, char type, std::string_view linkname, uint64_t mtime) {
  std::string b(512, '\0');
  name.substr(0, 100).copy(b.data(), 100);
  std::snprintf(b.data() + 100, 8, "%07o", 0644);
  std::snprintf(b.data() + 108, 8, "%07o", 0);
  std::snprintf(b.data() + 116, 8, "%07o", 0);
  std::snprintf(b.data() + 124, 12, "%011llo", static_cast<unsigned long long>(size));
  std::snprintf(b.data() + 136, 12, "%011llo", static_cast<unsigned long long>(mtime));
  b[156] = type;
  linkname.substr(0, 100).copy(b.data() + 157, 100);
  std::memcpy(b.data() + 257, "ustar\0" "00", 8);
  std::memset(b.data() + 148, ' ', 8);
  unsigned sum = 0;
  for (char c : b) sum += static_cast<unsigned char>(c);
  std::snprintf(b.data() + 148, 8, "%06o", sum);
  return b;
}

std::string Padding(size_t size) { return std::string((512 - size % 512) % 512, '\0'); }

}  // namespace

std::string MakeTar(const Members& members, int64_t mtime) {
  StringWriter out;
  tar::Writer w(out);
  for (const auto& [name, content] : members) w.AddFile(name, content, mtime);
  w.Finish();
  return std::move(out.str());
}

std::string Gzip(const std::string& data, int level, int window_bits) {
  z_stream z{};
  if (deflateInit2(&z, level, Z_DEFLATED, 16 + window_bits, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
    throw InvalidArgument("zlib refuses gzip level ", std::to_string(level), " window ", std::to_string(window_bits));
  }
  std::string out(deflateBound(&z, data.size()) + 64, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  int rc = deflate(&z, Z_FINISH);
  out.resize(z.total_out);
  deflateEnd(&z);
  if (rc != Z_STREAM_END) throw IOError("zlib deflate did not finish a ", std::to_string(data.size()), "-byte test input");
  return out;
}

std::string TarHeader(std::string_view name, uint64_t size, char type, std::string_view linkname, uint64_t mtime) {
  std::string out;
  if (name.size() > 100) {
    std::string record = " path=" + std::string(name) + "\n";
    size_t len = record.size() + 1;
    while (std::to_string(len).size() + record.size() != len) ++len;
    record = std::to_string(len) + record;
    out += UstarBlock("PaxHeaders/x", record.size(), 'x', {}, mtime);
    out += record + Padding(record.size());
  }
  return out + UstarBlock(name, size, type, linkname, mtime);
}

std::string TarFile(std::string_view name, std::string_view content, uint64_t mtime) {
  return TarHeader(name, content.size(), '0', {}, mtime) + std::string(content) + Padding(content.size());
}

std::string TarEnd() { return std::string(1024, '\0'); }

std::string TarWithRawName(std::string_view name, std::string_view content) {
  return TarFile(name, content) + TarEnd();
}

}  // namespace outpost::testing
