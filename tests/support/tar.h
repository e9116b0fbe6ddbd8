// Tars and gzip members built in memory for tests: well-formed ones through outpost's own tar
// writer, and hand-made headers for what the writer refuses (unsafe names, long names, links,
// hostile sizes). Test code only.
#pragma once

#include <concepts>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <zlib.h>

namespace outpost::testing {

// The modification time test tars carry unless told otherwise (2023-11-14).
inline constexpr int64_t kTarMtime = 1700000000;

using Files = std::map<std::string, std::string>;                  // path -> content, sorted
using Members = std::vector<std::pair<std::string, std::string>>;  // (path, content) in order

// A tar of `members` in the order given, written by tar::Writer, each with mtime `mtime`.
std::string MakeTar(const Members& members, int64_t mtime = kTarMtime);
// A tar of `files` sorted by path. (A template only so that a braced list, as in
// MakeTar({{"a", "x"}}), picks the overload above instead of being ambiguous.)
template <typename SortedFiles>
  requires std::same_as<SortedFiles, Files>
std::string MakeTar(const SortedFiles& files, int64_t mtime = kTarMtime) {
  return MakeTar(Members(files.begin(), files.end()), mtime);
}

// `data` as one gzip member made by zlib at `level` with a `window_bits` window (OS byte 3,
// MTIME 0, no name). A window other than 15 makes a blob no recipe candidate reproduces.
std::string Gzip(const std::string& data, int level = 6, int window_bits = MAX_WBITS);

// One ustar header block for a `type` entry (with a PAX 'x' block first when `name` is longer
// than 100 bytes); nothing is checked, so hostile names and sizes go through.
std::string TarHeader(std::string_view name, uint64_t size, char type = '0', std::string_view linkname = {},
                      uint64_t mtime = kTarMtime);
// A regular file entry: its header, `content` and the padding to 512 bytes.
std::string TarFile(std::string_view name, std::string_view content, uint64_t mtime = kTarMtime);
// The end-of-archive marker (two zero blocks).
std::string TarEnd();
// A complete tar whose single entry is named `name` as is, even when unsafe (`../x`, `/etc/x`).
std::string TarWithRawName(std::string_view name, std::string_view content);

}  // namespace outpost::testing
