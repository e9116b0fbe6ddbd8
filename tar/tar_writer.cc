#include "tar/tar_writer.h"

#include <cstring>

#include "common/error.h"
#include "tar/tar_reader.h"

namespace outpost::tar {
namespace {

constexpr size_t kNameWidth = 100;
constexpr size_t kPrefixWidth = 155;

// Writes `value` as zero-padded octal filling `width - 1` digits plus a NUL.
void PutOctal(uint8_t* field, size_t width, uint64_t value) {
  field[width - 1] = '\0';
  for (size_t i = width - 1; i-- > 0;) {
    field[i] = static_cast<uint8_t>('0' + (value & 7));
    value >>= 3;
  }
  if (value != 0) throw InvalidArgument("tar header value too large for ustar");
}

// Splits `name` into ustar prefix and name fields; false if it does not fit.
bool SplitName(const std::string& name, std::string* prefix, std::string* rest) {
  if (name.size() <= kNameWidth) {
    *prefix = "";
    *rest = name;
    return true;
  }
  for (size_t slash = name.find('/'); slash != std::string::npos; slash = name.find('/', slash + 1)) {
    if (slash <= kPrefixWidth && name.size() - slash - 1 <= kNameWidth && slash + 1 < name.size()) {
      *prefix = name.substr(0, slash);
      *rest = name.substr(slash + 1);
      return true;
    }
  }
  return false;
}

}  // namespace

void Writer::WriteHeader(const std::string& name, char type, uint32_t mode, uint64_t size, int64_t mtime) {
  std::string prefix, rest;
  if (!IsSafePath(name) || !SplitName(name, &prefix, &rest)) {
    throw InvalidArgument("cannot write tar member \"", name, "\": unsafe or too long for ustar");
  }
  uint8_t block[kBlockSize] = {};
  std::memcpy(block, rest.data(), rest.size());
  PutOctal(block + 100, 8, mode);
  PutOctal(block + 108, 8, 0);
  PutOctal(block + 116, 8, 0);
  PutOctal(block + 124, 12, size);
  PutOctal(block + 136, 12, static_cast<uint64_t>(mtime));
  std::memset(block + 148, ' ', 8);
  block[156] = static_cast<uint8_t>(type);
  std::memcpy(block + 257, "ustar\0" "00", 8);
  std::memcpy(block + 345, prefix.data(), prefix.size());
  unsigned sum = 0;
  for (uint8_t b : block) sum += b;
  PutOctal(block + 148, 7, sum);  // six digits, NUL, and the space already there
  out_.Write(block, kBlockSize);
}

void Writer::Pad(uint64_t size) {
  static const uint8_t kZeros[kBlockSize] = {};
  size_t rem = size % kBlockSize;
  if (rem != 0) out_.Write(kZeros, kBlockSize - rem);
}

void Writer::AddFile(const std::string& name, uint64_t size, outpost::Reader& content, int64_t mtime) {
  WriteHeader(name, kRegular, 0644, size, mtime);
  LimitedReader limited(content, size);
  if (Copy(limited, out_) != size) throw Corruption("tar member ", name, ": content ended before ", std::to_string(size), " bytes");
  Pad(size);
}

void Writer::AddFile(const std::string& name, std::string_view content, int64_t mtime) {
  StringReader r{std::string(content)};
  AddFile(name, content.size(), r, mtime);
}

void Writer::AddDirectory(const std::string& name, int64_t mtime) {
  WriteHeader(name.ends_with('/') ? name : name + "/", kDirectory, 0755, 0, mtime);
}

void Writer::Finish() {
  static const uint8_t kZeros[2 * kBlockSize] = {};
  out_.Write(kZeros, sizeof(kZeros));
}

}  // namespace outpost::tar
