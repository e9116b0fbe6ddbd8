#include "delta/header_op.h"

#include <algorithm>

#include "tar/tar_reader.h"

namespace outpost::delta::header_op {
namespace {

size_t LastBlock(std::string_view bytes) { return bytes.size() - tar::kBlockSize; }

}  // namespace

size_t MtimeSlot(std::string_view prediction, uint8_t version) {
  constexpr size_t kTypeflagOffset = 156;
  return version >= 2 && prediction[LastBlock(prediction) + kTypeflagOffset] == '5' ? 1 : 0;
}

MtimeField LastMtime(std::string_view bytes) {
  MtimeField m;
  std::copy_n(bytes.data() + LastBlock(bytes) + kMtimeOffset, m.size(), m.data());
  return m;
}

void SetLastMtime(std::string* bytes, const MtimeField& mtime) {
  std::copy(mtime.begin(), mtime.end(), bytes->data() + LastBlock(*bytes) + kMtimeOffset);
}

void SetLastChecksum(std::string* bytes) {
  char* block = bytes->data() + LastBlock(*bytes);
  std::fill_n(block + kChecksumOffset, kChecksumBytes, ' ');
  unsigned sum = 0;
  for (size_t i = 0; i < tar::kBlockSize; ++i) sum += static_cast<unsigned char>(block[i]);
  // At most 512 * 255 = 130560 < 8^6: always six octal digits.
  for (int i = 5; i >= 0; --i, sum >>= 3) block[kChecksumOffset + i] = static_cast<char>('0' + (sum & 7));
  block[kChecksumOffset + 6] = '\0';
}

}  // namespace outpost::delta::header_op
