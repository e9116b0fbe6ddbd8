#include "tar/tar_reader.h"

#include <algorithm>
#include <cstring>

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
    kMagic{257, 6}, kPrefix{345, 155};

std::string_view FieldView(const uint8_t* block, Field f) {
  return std::string_view(reinterpret_cast<const char*>(block) + f.offset, f.width);
}

std::string CString(const uint8_t* block, Field f) {
  std::string_view v = FieldView(block, f);
  return std::string(v.substr(0, v.find('\0')));
}

// Octal (NUL/space padded) or GNU base-256 (high bit of the first byte set).
uint64_t ParseNumber(const uint8_t* block, Field f, uint64_t at) {
  std::string_view v = FieldView(block, f);
  if (static_cast<uint8_t>(v[0]) & 0x80) {
    uint64_t n = static_cast<uint8_t>(v[0]) & 0x3f;
    for (size_t i = 1; i < v.size(); ++i) {
      if (n >> 56) throw Corruption("tar header at offset ", std::to_string(at), ": number too large");
      n = n << 8 | static_cast<uint8_t>(v[i]);
    }
    return n;
  }
  uint64_t n = 0;
  size_t i = 0;
  while (i < v.size() && v[i] == ' ') ++i;
  for (; i < v.size() && v[i] != '\0' && v[i] != ' '; ++i) {
    if (v[i] < '0' || v[i] > '7' || (n >> 60)) {
      throw Corruption("tar header at offset ", std::to_string(at), ": bad number in field at byte ",
                       std::to_string(f.offset));
    }
    n = n * 8 + static_cast<uint64_t>(v[i] - '0');
  }
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

// Applies PAX records ("<len> <key>=<value>\n") that outpost uses to `e`.
void ApplyPax(std::string_view records, Entry* e, uint64_t at) {
  while (!records.empty()) {
    size_t space = records.find(' ');
    uint64_t len = 0;
    if (space == std::string_view::npos || space == 0) throw Corruption("tar PAX header at offset ", std::to_string(at), " is malformed");
    for (size_t i = 0; i < space; ++i) {
      if (records[i] < '0' || records[i] > '9') throw Corruption("tar PAX header at offset ", std::to_string(at), " is malformed");
      len = len * 10 + static_cast<uint64_t>(records[i] - '0');
    }
    if (len <= space + 1 || len > records.size() || records[len - 1] != '\n') {
      throw Corruption("tar PAX header at offset ", std::to_string(at), " is malformed");
    }
    std::string_view kv = records.substr(space + 1, len - space - 2);
    size_t eq = kv.find('=');
    if (eq == std::string_view::npos) throw Corruption("tar PAX header at offset ", std::to_string(at), " is malformed");
    std::string_view key = kv.substr(0, eq), value = kv.substr(eq + 1);
    if (key == "path") e->name = value;
    if (key == "linkpath") e->linkname = value;
    if (key == "size") {
      uint64_t size = 0;
      for (char c : value) {
        if (c < '0' || c > '9') throw Corruption("tar PAX size at offset ", std::to_string(at), " is malformed");
        size = size * 10 + static_cast<uint64_t>(c - '0');
      }
      e->size = size;
    }
    records.remove_prefix(len);
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
  std::string long_name, long_link;
  Entry pax;
  bool have_pax = false;
  uint8_t block[kBlockSize];
  for (;;) {
    uint64_t at = offset_;
    size_t got = ReadRaw(block, kBlockSize);
    if (got == 0 || IsZeroBlock(block)) {
      if (got != 0 && got != kBlockSize) throw Corruption("tar truncated at offset ", std::to_string(at));
      // The end: hand what we consumed (padding, zero block) to the trailer.
      trailer_head_ = raw + std::string(reinterpret_cast<const char*>(block), got);
      at_end_ = true;
      if (!long_name.empty() || have_pax) throw Corruption("tar ends after an extension header at offset ", std::to_string(at));
      return false;
    }
    if (got != kBlockSize) throw Corruption("tar truncated: header at offset ", std::to_string(at), " is incomplete");
    raw.append(reinterpret_cast<const char*>(block), kBlockSize);
    VerifyChecksum(block, at);
    char type = static_cast<char>(block[kTypeflag.offset]);
    uint64_t size = ParseNumber(block, kSize, at);
    if (type == 'L') { long_name = ReadExtensionData(size, &raw); long_name = long_name.substr(0, long_name.find('\0')); continue; }
    if (type == 'K') { long_link = ReadExtensionData(size, &raw); long_link = long_link.substr(0, long_link.find('\0')); continue; }
    if (type == 'x') { ApplyPax(ReadExtensionData(size, &raw), &pax, at); have_pax = true; continue; }

    e->type = type;
    e->size = size;
    e->mode = static_cast<uint32_t>(ParseNumber(block, kMode, at));
    e->uid = ParseNumber(block, kUid, at);
    e->gid = ParseNumber(block, kGid, at);
    e->mtime = static_cast<int64_t>(ParseNumber(block, kMtime, at));
    e->name = CString(block, kName);
    if (FieldView(block, kMagic).substr(0, 5) == "ustar") {
      std::string prefix = CString(block, kPrefix);
      if (!prefix.empty()) e->name = prefix + "/" + e->name;
    }
    e->linkname = CString(block, kLinkname);
    if (!long_name.empty()) e->name = long_name;
    if (!long_link.empty()) e->linkname = long_link;
    if (have_pax) {
      if (!pax.name.empty()) e->name = pax.name;
      if (!pax.linkname.empty()) e->linkname = pax.linkname;
      if (pax.size != 0) e->size = pax.size;
    }
    // Links, directories, devices and FIFOs carry no content whatever their size field says.
    if (type == kHardLink || type == kSymlink || type == kDirectory || type == '3' || type == '4' || type == '6') e->size = 0;
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
  return ReadRaw(buf, n);
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

}  // namespace outpost::tar
