#include "delta/tar_guard.h"

#include <algorithm>
#include <cstring>

#include "common/error.h"
#include "delta/format.h"
#include "tar/tar_reader.h"

namespace outpost::delta {
namespace {

// Thrown by CapturedReader when the tar reader wants bytes not captured yet.
struct NeedMore {
  size_t bytes;
};

class CapturedReader : public outpost::Reader {
 public:
  explicit CapturedReader(const std::string& data) : data_(data) {}
  size_t Read(uint8_t* buf, size_t n) override {
    if (pos_ == data_.size()) throw NeedMore{n};
    size_t k = std::min(n, data_.size() - pos_);
    std::memcpy(buf, data_.data() + pos_, k);
    pos_ += k;
    return k;
  }

 private:
  const std::string& data_;
  size_t pos_ = 0;
};

}  // namespace

void TarGuard::Write(const uint8_t* data, size_t n) {
  size_t done = 0;
  while (done < n) {
    size_t k = n - done;
    if (in_trailer_) {
      // `tar -i` reads past zero blocks, so nothing may hide there (as in tar::Reader).
      if (std::any_of(data + done, data + n, [](uint8_t b) { return b != 0; })) {
        throw Corruption("layer delta rebuilds a tar with data after its end-of-archive block");
      }
      out_.Write(data + done, k);
    } else if (offset_ < next_header_) {
      k = static_cast<size_t>(std::min<uint64_t>(k, next_header_ - offset_));
      out_.Write(data + done, k);
    } else {
      k = static_cast<size_t>(std::min<uint64_t>(k, need_ - header_.size()));
      header_.append(reinterpret_cast<const char*>(data + done), k);
      if (header_.size() == need_) TryParse();
    }
    offset_ += k;
    done += k;
  }
}

void TarGuard::TryParse() {
  if (header_.size() == tar::kBlockSize && header_.find_first_not_of('\0') == std::string::npos) {
    out_.Write(reinterpret_cast<const uint8_t*>(header_.data()), header_.size());
    header_.clear();
    in_trailer_ = true;
    return;
  }
  CapturedReader in(header_);
  tar::Reader reader(in);
  tar::Entry e;
  try {
    if (!reader.Next(&e)) throw Corruption("layer delta rebuilds a tar that ends after an extension header");
  } catch (const NeedMore& more) {
    need_ = header_.size() + more.bytes;
    if (need_ > format::kMaxEntryHeader) throw Corruption("layer delta rebuilds an oversized tar header");
    return;
  }
  if (!tar::IsSafeEntry(e)) {
    throw SecurityError("layer delta rebuilds tar entry \"", e.name,
                        "\" with an absolute path or a \"..\" component");
  }
  out_.Write(reinterpret_cast<const uint8_t*>(header_.data()), header_.size());
  next_header_ += header_.size() + e.size + (tar::kBlockSize - e.size % tar::kBlockSize) % tar::kBlockSize;
  header_.clear();
  need_ = tar::kBlockSize;
}

void TarGuard::Finish() {
  if (!in_trailer_ && (offset_ != next_header_ || !header_.empty())) {
    throw Corruption("layer delta rebuilds a tar that ends inside an entry");
  }
}

}  // namespace outpost::delta
