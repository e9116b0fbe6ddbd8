// A streaming tar reader that keeps every byte.
//
// A tar stream is read as a sequence of entries, each `raw_prefix` followed by `size` bytes of
// content, and a final trailer:
//
//   stream = raw_prefix[0] content[0] raw_prefix[1] content[1] ... raw_prefix[n-1] content[n-1] trailer
//
// raw_prefix[i] is every byte between the end of entry i-1's content and the start of entry i's
// content: the padding of entry i-1 to a 512-byte boundary, any PAX ('x') or GNU long-name ('L',
// 'K') header blocks with their data, and entry i's own header block. The trailer is everything
// from the first all-zero header block to the end of the stream (end-of-archive blocks and
// record padding). Concatenating these pieces gives back the input exactly, which is what lets
// the delta engine treat headers as data and still rebuild a bit-identical layer.
//
// Supported: ustar, GNU (long names, base-256 numbers) and PAX (path, linkpath, size). PAX
// global headers ('g') are read like the other extension headers, into the next entry's
// raw_prefix; their records are checked but set nothing.
//
// The reader sees the entries GNU tar, Go's archive/tar and Python's tarfile see, or refuses
// the stream: where those extractors would read a header differently (a PAX size of 0 applies;
// an empty PAX size or path, a NUL before a number's digits, two extension headers of one kind,
// a GNU long name beside a PAX path, a prefix outside POSIX ustar, a link or directory with
// content, GNU sparse files), it throws rather than pick one reading. Everything after the first
// zero block must be zero bytes, since `tar -i` reads entries past it.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/io.h"

namespace outpost::tar {

// Type flags outpost cares about (POSIX ustar values).
inline constexpr char kRegular = '0';
inline constexpr char kRegularOld = '\0';
inline constexpr char kHardLink = '1';
inline constexpr char kSymlink = '2';
inline constexpr char kDirectory = '5';

inline constexpr size_t kBlockSize = 512;

struct Entry {
  std::string name;      // full path: PAX path > GNU long name > ustar prefix + "/" + name
  std::string linkname;  // PAX linkpath > GNU long link > ustar linkname
  char type = kRegular;
  uint64_t size = 0;     // content bytes that follow raw_prefix
  uint32_t mode = 0;
  uint64_t uid = 0;
  uint64_t gid = 0;
  int64_t mtime = 0;
  uint64_t offset = 0;       // stream offset where raw_prefix starts
  uint64_t data_offset = 0;  // stream offset where the content starts
  std::string raw_prefix;    // see the file comment

  bool is_regular() const { return type == kRegular || type == kRegularOld; }
};

class Reader {
 public:
  // Reads tar from `in`, which must outlive this object.
  explicit Reader(outpost::Reader& in);

  // Advances to the next entry, skipping any unread content of the current one. Returns false
  // at the end-of-archive marker or at a clean end of input on a block boundary (then the
  // trailer is what follows). Throws Corruption for a bad header checksum, an unparsable
  // number, a PAX record that does not parse, headers extractors read differently (see the
  // file comment) or input that ends inside an entry; Unsupported for GNU sparse files.
  bool Next(Entry* entry);

  // Reads up to `n` bytes of the current entry's content; 0 at its end.
  size_t ReadData(uint8_t* buf, size_t n);

  // After Next() returned false: reads the trailer (see the file comment); 0 at its end.
  // Throws Corruption at a non-zero byte after the end-of-archive block.
  size_t ReadTrailer(uint8_t* buf, size_t n);

  // Stream offset of the next byte this reader will consume.
  uint64_t offset() const { return offset_; }

 private:
  size_t ReadRaw(uint8_t* buf, size_t n);
  void ReadBlock(uint8_t* block, std::string* raw, std::string_view what);
  std::string ReadExtensionData(uint64_t size, std::string* raw);
  void SkipContent();

  outpost::Reader& in_;
  uint64_t offset_ = 0;
  uint64_t content_left_ = 0;  // unread content of the current entry
  uint64_t padding_left_ = 0;  // padding after the current entry's content
  bool at_end_ = false;
  std::string trailer_head_;   // the zero block Next() consumed before reporting the end
  size_t trailer_pos_ = 0;
};

// True when `block` is 512 bytes that start a tar: a header with a valid checksum, or the
// end-of-archive block. Lets a caller refuse a non-tar before reading (or inflating) it all.
bool IsHeaderBlock(std::string_view block);

// True when `name` is a relative path that stays inside the directory it is extracted into:
// not empty, not absolute, and no ".." component. Layers and docker-archive members use it.
bool IsSafePath(std::string_view name);

// True when extracting `e` writes only inside the root: a safe name and, for a hard link
// (which extractors create by linking to an existing path), a safe target.
bool IsSafeEntry(const Entry& e);

}  // namespace outpost::tar
