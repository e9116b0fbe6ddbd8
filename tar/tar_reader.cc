#include "tar/tar_reader.h"

#include <algorithm>
#include <cstring>
#include <optional>
#include <utility>

#include "common/error.h"

namespace outpost::tar {
namespace {

// ustar header field offsets and widths.
struct Field {
  size_t offset;
  size_t width;
};
constexpr Field kName{0, 100}, kMode{100, 8}, kUid{108, 8}, kGid{116, 8}, kSize{124, 12},
    kMtime{136, 12}, kChecksum{148, 8}, kTypeflag{156, 1}, kLinkname{157, 100},
    kMagicVersion{257, 8}, kPrefix{345, 155};

std::string_view FieldView(const uint8_t* block, Field f) {
  return std::string_view(reinterpret_cast<const char*>(block) + f.offset, f.width);
}

std::string CString(const uint8_t* block, Field f) {
  std::string_view v = FieldView(block, f);
  return std::string(v.substr(0, v.find('\0')));
}

// Octal or GNU base-256, accepted only in the form GNU tar, Go and Python's tarfile all read
// the same way: leading spaces, octal digits, then only NULs and spaces; or 0x80 followed by a
// big-endian number (0xff and a negative one for mtime only). Anything else (a NUL before the
// digits, an all-blank field, a negative size) is Corruption, since one of them would read
// another value.
uint64_t ParseNumber(const uint8_t* block, Field f, uint64_t at) {
  std::string_view v = FieldView(block, f);
  auto bad = [&] {
    return Corruption("tar header at offset ", std::to_string(at), ": bad number in field at byte ",
                      std::to_string(f.offset));
  };
  if (static_cast<uint8_t>(v[0]) == 0xff && f.offset == kMtime.offset) {
    int64_t t = -1;  // a negative base-256 mtime (before 1970), as Go writes it
    for (size_t i = 1; i < v.size(); ++i) t = static_cast<int64_t>(static_cast<uint64_t>(t) << 8 | static_cast<uint8_t>(v[i]));
    return static_cast<uint64_t>(t);
  }
  if (static_cast<uint8_t>(v[0]) & 0x80) {
    if (static_cast<uint8_t>(v[0]) != 0x80) throw bad();
    uint64_t n = 0;
    for (size_t i = 1; i < v.size(); ++i) {
      if (n >> 56) throw Corruption("tar header at offset ", std::to_string(at), ": number too large");
      n = n << 8 | static_cast<uint8_t>(v[i]);
    }
    return n;
  }
  size_t i = v.find_first_not_of(' ');
  if (i == std::string_view::npos) throw bad();
  uint64_t n = 0;
  for (; i < v.size() && v[i] >= '0' && v[i] <= '7'; ++i) {
    if (n >> 60) throw bad();
    n = n * 8 + static_cast<uint64_t>(v[i] - '0');
  }
  if (v.substr(i).find_first_not_of(std::string_view("\0 ", 2)) != std::string_view::npos) throw bad();
  return n;
}

bool IsZeroBlock(const uint8_t* block) {
  return std::all_of(block, block + kBlockSize, [](uint8_t b) { return b == 0; });
}

void VerifyChecksum(const uint8_t* block, uint64_t at) {
  uint64_t want = ParseNumber(block, kChecksum, at);
  uint64_t unsigned_sum = 0;
  int64_t signed_sum = 0;
  for (size_t i = 0; i < kBlockSize; ++i) {
    bool in_field = i >= kChecksum.offset && i < kChecksum.offset + kChecksum.width;
    uint8_t b = in_field ? ' ' : block[i];
    unsigned_sum += b;
    signed_sum += static_cast<int8_t>(b);
  }
  if (want != unsigned_sum && static_cast<int64_t>(want) != signed_sum) {
    throw Corruption("tar header at offset ", std::to_string(at), ": checksum mismatch (not a tar, or corrupt)");
  }
}

uint64_t PaddingFor(uint64_t size) { return (kBlockSize - size % kBlockSize) % kBlockSize; }

// The PAX records that decide where an entry goes and how long it is. An absent record keeps
// the ustar value; a present one applies even when it is 0 (as in GNU tar, Go and Python).
struct Pax {
  std::optional<std::string> path, linkpath;
  std::optional<uint64_t> size;
};

Error PaxError(uint64_t at, std::string_view what) {
  return Corruption("tar PAX header at offset ", std::to_string(at), " ", std::string(what));
}

// Parses `value` as a PAX size: decimal digits only (Python would also read "+1", "1_0" or "").
uint64_t PaxSize(std::string_view value, uint64_t at) {
  if (value.empty() || value.size() > 18) throw PaxError(at, "has a malformed size");
  uint64_t size = 0;
  for (char c : value) {
    if (c < '0' || c > '9') throw PaxError(at, "has a malformed size");
    size = size * 10 + static_cast<uint64_t>(c - '0');
  }
  return size;
}

// Reads one "<len> <key>=<value>\n" record off the front of `records`.
std::pair<std::string_view, std::string_view> NextRecord(std::string_view* records, uint64_t at) {
  size_t space = records->find(' ');
  if (space == std::string_view::npos || space == 0 || space > 18) throw PaxError(at, "is malformed");
  uint64_t len = 0;
  for (size_t i = 0; i < space; ++i) {
    if ((*records)[i] < '0' || (*records)[i] > '9') throw PaxError(at, "is malformed");
    len = len * 10 + static_cast<uint64_t>((*records)[i] - '0');
  }
  if (len <= space + 1 || len > records->size() || (*records)[len - 1] != '\n') throw PaxError(at, "is malformed");
  std::string_view kv = records->substr(space + 1, len - space - 2);
  records->remove_prefix(len);
  size_t eq = kv.find('=');
  if (eq == std::string_view::npos || eq == 0) throw PaxError(at, "is malformed");
  return {kv.substr(0, eq), kv.substr(eq + 1)};
}

// Parses PAX records. Refuses what extractors read differently: an empty path or size (Go keeps
// the ustar value, Python uses "" and 0), a NUL inside a path, GNU sparse records (they rename
// and resize the entry), and, in a global header, path, linkpath or size (Python applies them
// to every later entry, Go to none).
Pax ParsePax(std::string_view records, bool global, uint64_t at) {
  Pax pax;
  while (!records.empty()) {
    auto [key, value] = NextRecord(&records, at);
    if (key.starts_with("GNU.sparse.")) {
      throw Unsupported("tar PAX header at offset ", std::to_string(at), ": GNU sparse files are not supported");
    }
    bool placing = key == "path" || key == "linkpath" || key == "size";
    if (!placing) continue;
    if (global) throw PaxError(at, "is global and sets " + std::string(key) + ", which extractors apply differently");
    if (key == "size") {
      pax.size = PaxSize(value, at);
      continue;
    }
    if (value.empty() || value.find('\0') != std::string_view::npos) {
      throw PaxError(at, "has an empty " + std::string(key) + " or one with a NUL byte");
    }
    (key == "path" ? pax.path : pax.linkpath) = std::string(value);
  }
  return pax;
}

// Extension headers seen before an entry's own header.
struct Extensions {
  std::optional<std::string> long_name, long_link;
  std::optional<Pax> pax;
  bool empty() const { return !long_name && !long_link && !pax; }
};

// Refuses a second extension header of one kind, and a GNU long name beside a PAX path (or long
// link beside linkpath): GNU tar, Go and Python resolve each of these differently.
void CheckExtensions(const Extensions& x, char type, uint64_t at) {
  bool repeated = (type == 'L' && x.long_name) || (type == 'K' && x.long_link) || (type == 'x' && x.pax) ||
                  (type == 'g' && !x.empty());
  bool clash = x.pax && ((x.long_name && x.pax->path) || (x.long_link && x.pax->linkpath));
  if (repeated || clash) {
    throw Corruption("tar header at offset ", std::to_string(at),
                     ": conflicting extension headers, which extractors resolve differently");
  }
}

// Types whose entries have no content in GNU tar, Go and Python alike.
bool IsHeaderOnly(char type) {
  return type == kHardLink || type == kSymlink || type == kDirectory || type == '3' || type == '4' || type == '6';
}

// Fills `e` from its header block and the extension headers before it.
void Fill(const uint8_t* block, const Extensions& x, uint64_t at, Entry* e) {
  e->type = static_cast<char>(block[kTypeflag.offset]);
  e->size = ParseNumber(block, kSize, at);
  e->mode = static_cast<uint32_t>(ParseNumber(block, kMode, at));
  e->uid = ParseNumber(block, kUid, at);
  e->gid = ParseNumber(block, kGid, at);
  e->mtime = static_cast<int64_t>(ParseNumber(block, kMtime, at));
  e->name = CString(block, kName);
  std::string prefix = CString(block, kPrefix);
  if (!prefix.empty()) {
    // Python prepends the prefix whatever the magic, Go only for POSIX ustar, and Go's star
    // variant (trailer "tar\0") reads only its first 130 bytes.
    bool posix = FieldView(block, kMagicVersion) == std::string_view("ustar\0" "00", 8);
    bool star = std::string_view(reinterpret_cast<const char*>(block) + 508, 4) == std::string_view("tar\0", 4);
    if (!posix || (star && prefix.size() > 130)) {
      throw Corruption("tar header at offset ", std::to_string(at),
                       ": a name prefix in a header that is not POSIX ustar, which extractors read differently");
    }
    e->name = prefix + "/" + e->name;
  }
  e->linkname = CString(block, kLinkname);
  if (x.long_name) e->name = *x.long_name;
  if (x.long_link) e->linkname = *x.long_link;
  if (x.pax) {
    if (x.pax->path) e->name = *x.pax->path;
    if (x.pax->linkpath) e->linkname = *x.pax->linkpath;
    if (x.pax->size) e->size = *x.pax->size;
  }
  // Python reads an old-style regular entry whose header names "dir/" as a directory without
  // content (judged on the header's own name, before any long name or PAX path).
  bool old_dir = e->type == kRegularOld && (CString(block, kName).ends_with('/') || e->name.ends_with('/'));
  if ((IsHeaderOnly(e->type) || old_dir) && e->size != 0) {
    // Go and Python skip no content for these, GNU tar may: refuse rather than guess.
    throw Corruption("tar entry \"", e->name, "\" at offset ", std::to_string(at),
                     " is a link, directory or device with content");
  }
}

}  // namespace

Reader::Reader(outpost::Reader& in) : in_(in) {}

size_t Reader::ReadRaw(uint8_t* buf, size_t n) {
  size_t got = ReadUpTo(in_, buf, n);
  offset_ += got;
  return got;
}

void Reader::ReadBlock(uint8_t* block, std::string* raw, std::string_view what) {
  uint64_t at = offset_;
  if (ReadRaw(block, kBlockSize) != kBlockSize) {
    throw Corruption("tar truncated: ", std::string(what), " at offset ", std::to_string(at), " is incomplete");
  }
  raw->append(reinterpret_cast<const char*>(block), kBlockSize);
}

std::string Reader::ReadExtensionData(uint64_t size, std::string* raw) {
  constexpr uint64_t kMaxExtension = 1 << 20;  // a PAX or long-name record is a few KiB at most
  if (size > kMaxExtension) throw Corruption("tar extension header of ", std::to_string(size), " bytes is implausible");
  uint64_t padded = size + PaddingFor(size);
  std::string data(padded, '\0');
  if (ReadRaw(reinterpret_cast<uint8_t*>(data.data()), padded) != padded) {
    throw Corruption("tar truncated inside an extension header");
  }
  raw->append(data);
  data.resize(size);
  return data;
}

void Reader::SkipContent() {
  uint8_t buf[16 << 10];
  while (content_left_ > 0) {
    if (ReadData(buf, sizeof(buf)) == 0) break;
  }
}

bool Reader::Next(Entry* e) {
  if (at_end_) return false;
  SkipContent();
  *e = Entry();
  e->offset = offset_;
  std::string& raw = e->raw_prefix;
  if (padding_left_ > 0) {
    raw.resize(padding_left_);
    if (ReadRaw(reinterpret_cast<uint8_t*>(raw.data()), padding_left_) != padding_left_) {
      throw Corruption("tar truncated in the padding before offset ", std::to_string(offset_));
    }
    padding_left_ = 0;
  }
  Extensions x;
  uint8_t block[kBlockSize];
  for (;;) {
    uint64_t at = offset_;
    size_t got = ReadRaw(block, kBlockSize);
    if (got == 0 || IsZeroBlock(block)) {
      if (got != 0 && got != kBlockSize) throw Corruption("tar truncated at offset ", std::to_string(at));
      // The end: hand what we consumed (padding, zero block) to the trailer.
      trailer_head_ = raw + std::string(reinterpret_cast<const char*>(block), got);
      at_end_ = true;
      if (!x.empty()) throw Corruption("tar ends after an extension header at offset ", std::to_string(at));
      return false;
    }
    if (got != kBlockSize) throw Corruption("tar truncated: header at offset ", std::to_string(at), " is incomplete");
    raw.append(reinterpret_cast<const char*>(block), kBlockSize);
    VerifyChecksum(block, at);
    char type = static_cast<char>(block[kTypeflag.offset]);
    uint64_t size = ParseNumber(block, kSize, at);
    if (type == 'L' || type == 'K' || type == 'x' || type == 'g') {
      CheckExtensions(x, type, at);
      std::string data = ReadExtensionData(size, &raw);
      if (type == 'L') x.long_name = data.substr(0, data.find('\0'));
      if (type == 'K') x.long_link = data.substr(0, data.find('\0'));
      if (type == 'x' || type == 'g') {
        Pax pax = ParsePax(data, type == 'g', at);
        if (type == 'x') x.pax = std::move(pax);
      }
      CheckExtensions(x, '\1', at);
      continue;
    }
    if (type == 'S' || type == 'M' || type == 'N' || type == 'V') {
      // GNU sparse, multi-volume, old long-name and volume headers: no layer has them, and
      // extractors do not agree on what follows them.
      throw Unsupported("tar entry at offset ", std::to_string(at), " has GNU type '", std::string(1, type),
                        "' (sparse, multi-volume or volume header), which outpost does not read");
    }
    Fill(block, x, at, e);
    e->data_offset = offset_;
    content_left_ = e->size;
    padding_left_ = PaddingFor(e->size);
    return true;
  }
}

size_t Reader::ReadData(uint8_t* buf, size_t n) {
  if (content_left_ == 0) return 0;
  size_t want = static_cast<size_t>(std::min<uint64_t>(n, content_left_));
  size_t got = ReadRaw(buf, want);
  if (got == 0) throw Corruption("tar truncated: entry content ends early at offset ", std::to_string(offset_));
  content_left_ -= got;
  return got;
}

size_t Reader::ReadTrailer(uint8_t* buf, size_t n) {
  if (trailer_pos_ < trailer_head_.size()) {
    size_t k = std::min(n, trailer_head_.size() - trailer_pos_);
    std::memcpy(buf, trailer_head_.data() + trailer_pos_, k);
    trailer_pos_ += k;
    return k;
  }
  uint64_t at = offset_;
  size_t got = ReadRaw(buf, n);
  const uint8_t* nonzero = std::find_if(buf, buf + got, [](uint8_t b) { return b != 0; });
  if (nonzero != buf + got) {
    // `tar -i` reads on past zero blocks: bytes there would be entries nothing here checked.
    throw Corruption("tar has data after its end-of-archive block, at offset ",
                     std::to_string(at + static_cast<uint64_t>(nonzero - buf)));
  }
  return got;
}

bool IsSafePath(std::string_view name) {
  if (name.empty() || name.front() == '/') return false;
  size_t start = 0;
  while (start <= name.size()) {
    size_t slash = name.find('/', start);
    if (slash == std::string_view::npos) slash = name.size();
    if (name.substr(start, slash - start) == "..") return false;
    start = slash + 1;
  }
  return true;
}

bool IsHeaderBlock(std::string_view block) {
  if (block.size() != kBlockSize) return false;
  const auto* bytes = reinterpret_cast<const uint8_t*>(block.data());
  if (IsZeroBlock(bytes)) return true;
  try {
    VerifyChecksum(bytes, 0);
    return true;
  } catch (const Error&) {
    return false;
  }
}

bool IsSafeEntry(const Entry& e) {
  return IsSafePath(e.name) && (e.type != kHardLink || IsSafePath(e.linkname));
}

}  // namespace outpost::tar
