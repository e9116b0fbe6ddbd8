#include "common/io.h"

#include <algorithm>
#include <cstring>

#include "common/error.h"

namespace outpost {

size_t ReadUpTo(Reader& r, uint8_t* buf, size_t n) {
  size_t done = 0;
  while (done < n) {
    size_t got = r.Read(buf + done, n - done);
    if (got == 0) break;
    done += got;
  }
  return done;
}

void ReadFull(Reader& r, uint8_t* buf, size_t n, std::string_view what) {
  if (ReadUpTo(r, buf, n) != n) throw Corruption("unexpected end of ", std::string(what));
}

uint64_t Copy(Reader& r, Writer& w) {
  constexpr size_t kBufferBytes = 256 << 10;  // large enough to amortise syscalls and hashing
  auto buf = std::make_unique<uint8_t[]>(kBufferBytes);
  uint64_t total = 0;
  for (;;) {
    size_t got = r.Read(buf.get(), kBufferBytes);
    if (got == 0) return total;
    w.Write(buf.get(), got);
    total += got;
  }
}

std::string ReadAll(Reader& r, size_t limit, std::string_view what) {
  std::string out;
  uint8_t buf[64 << 10];
  for (;;) {
    size_t got = r.Read(buf, sizeof(buf));
    if (got == 0) return out;
    if (out.size() + got > limit) {
      throw Corruption(std::string(what), " is larger than ", std::to_string(limit), " bytes, outpost's limit for it");
    }
    out.append(reinterpret_cast<const char*>(buf), got);
  }
}

size_t StringReader::Read(uint8_t* buf, size_t n) {
  size_t k = std::min(n, data_.size() - pos_);
  std::memcpy(buf, data_.data() + pos_, k);
  pos_ += k;
  return k;
}

void StringWriter::Write(const uint8_t* data, size_t n) {
  data_.append(reinterpret_cast<const char*>(data), n);
}

void HashingWriter::Write(const uint8_t* data, size_t n) {
  sha_.Update(data, n);
  count_ += n;
  if (inner_ != nullptr) inner_->Write(data, n);
}

size_t HashingReader::Read(uint8_t* buf, size_t n) {
  size_t got = inner_.Read(buf, n);
  sha_.Update(buf, got);
  count_ += got;
  return got;
}

size_t LimitedReader::Read(uint8_t* buf, size_t n) {
  if (left_ == 0) return 0;
  size_t got = inner_.Read(buf, static_cast<size_t>(std::min<uint64_t>(n, left_)));
  left_ -= got;
  return got;
}

size_t RandomAccessReader::Read(uint8_t* buf, size_t n) {
  size_t k = static_cast<size_t>(std::min<uint64_t>(n, end_ - pos_));
  if (k == 0) return 0;
  src_.ReadAt(pos_, buf, k);
  pos_ += k;
  return k;
}

Digest HashAll(const RandomAccess& r) {
  RandomAccessReader reader(r, 0, r.size());
  HashingReader hashing(reader);
  NullWriter sink;
  Copy(hashing, sink);
  return hashing.Finish();
}

}  // namespace outpost
