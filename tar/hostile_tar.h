// Test helper (tests only): builds tar streams block by block, including ones no tar writer
// produces (hidden entries, conflicting extension headers), for hostile-input tests.
#pragma once

#include <cstdio>
#include <string>
#include <utility>
#include <vector>

namespace outpost::tar::testing {

// One header block's fields; numbers are written in octal unless `size_field` is set.
struct Header {
  std::string name = "";
  char type = '0';
  uint64_t size = 0;
  std::string linkname = "";
  std::string magic_version = std::string("ustar\0" "00", 8);
  std::string prefix = "";
  std::string size_field = "";  // when not empty: the 12 raw bytes of the size field
};

// A 512-byte header block with a valid checksum.
inline std::string Block(const Header& h) {
  std::string b(512, '\0');
  auto put = [&](size_t at, const std::string& v) { b.replace(at, v.size(), v); };
  auto octal = [](uint64_t n, int width) {
    char buf[24];
    std::snprintf(buf, sizeof(buf), "%0*llo", width, static_cast<unsigned long long>(n));
    return std::string(buf);
  };
  put(0, h.name.substr(0, 100));
  put(100, octal(0644, 7));
  put(108, octal(0, 7));
  put(116, octal(0, 7));
  put(124, h.size_field.empty() ? octal(h.size, 11) : h.size_field);
  put(136, octal(1700000000, 11));
  b[156] = h.type;
  put(157, h.linkname.substr(0, 100));
  put(257, h.magic_version);
  put(345, h.prefix.substr(0, 155));
  put(148, "        ");
  unsigned sum = 0;
  for (char c : b) sum += static_cast<unsigned char>(c);
  put(148, octal(sum, 6) + std::string(1, '\0'));
  return b;
}

// `data` padded with zeros to a whole number of blocks.
inline std::string Padded(std::string data) {
  data.resize((data.size() + 511) / 512 * 512, '\0');
  return data;
}

// A PAX record "<len> <key>=<value>\n".
inline std::string Record(const std::string& key, const std::string& value) {
  std::string body = " " + key + "=" + value + "\n";
  size_t len = body.size() + 1;
  while (std::to_string(len).size() + body.size() != len) ++len;
  return std::to_string(len) + body;
}

// An extension header of `type` ('x', 'g', 'L', 'K') with its data.
inline std::string Extension(char type, const std::string& data) {
  return Block({.name = "ext", .type = type, .size = data.size()}) + Padded(data);
}

// A PAX 'x' (or 'g') header holding `records` (key, value).
inline std::string Pax(const std::vector<std::pair<std::string, std::string>>& records, char type = 'x') {
  std::string data;
  for (const auto& [k, v] : records) data += Record(k, v);
  return Extension(type, data);
}

// A regular file entry with its content.
inline std::string File(const std::string& name, const std::string& content) {
  return Block({.name = name, .size = content.size()}) + Padded(content);
}

// The end-of-archive marker: two zero blocks.
inline std::string End() { return std::string(1024, '\0'); }

// The PAX size=0 attack: an entry whose ustar size hides the next header from a reader that
// ignores a PAX size of 0; GNU tar, Go and Python read `hidden` as an entry of its own.
inline std::string HiddenBehindPaxSizeZero(const std::string& hidden, const std::string& content) {
  std::string entry = File(hidden, content);
  return Pax({{"size", "0"}}) + Block({.name = "cover", .size = entry.size()}) + entry + End();
}

}  // namespace outpost::tar::testing
