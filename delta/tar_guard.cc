#include "delta/tar_guard.h"

#include <algorithm>

#include "common/error.h"
#include "tar/tar_reader.h"

namespace outpost::delta {

void TarGuard::BeginEntry(uint64_t length) {
  if (in_trailer_ || header_left_ > 0 || offset_ != next_header_ || length == 0) {
    throw Corruption("layer delta announces a tar entry at offset ", std::to_string(offset_),
                     " where none can start");
  }
  header_left_ = length;
  header_.clear();
}

void TarGuard::Write(const uint8_t* data, size_t n) {
  size_t done = 0;
  while (done < n) {
    size_t k = n - done;
    if (header_left_ > 0) {
      k = static_cast<size_t>(std::min<uint64_t>(k, header_left_));
      header_.append(reinterpret_cast<const char*>(data + done), k);
      header_left_ -= k;
      if (header_left_ == 0) CheckHeader();
    } else if (in_trailer_ || offset_ >= next_header_) {
      // No entry was announced where one would start: this is the trailer.
      in_trailer_ = true;
      if (trailer_head_.size() < tar::kBlockSize) {
        k = std::min(k, tar::kBlockSize - trailer_head_.size());
        trailer_head_.append(reinterpret_cast<const char*>(data + done), k);
        if (trailer_head_.find_first_not_of('\0') != std::string::npos) {
          throw Corruption("layer delta rebuilds tar bytes at offset ", std::to_string(next_header_),
                           " that are neither an announced entry nor an end-of-archive block");
        }
      }
    } else {
      k = static_cast<size_t>(std::min<uint64_t>(k, next_header_ - offset_));
    }
    offset_ += k;
    done += k;
  }
  out_.Write(data, n);
}

void TarGuard::CheckHeader() {
  StringReader in(header_);
  tar::Reader reader(in);
  tar::Entry e;
  if (!reader.Next(&e) || reader.offset() != header_.size()) {
    throw Corruption("layer delta rebuilds a malformed tar header at offset ", std::to_string(next_header_));
  }
  if (!tar::IsSafePath(e.name) || (e.type == tar::kHardLink && !tar::IsSafePath(e.linkname))) {
    throw SecurityError("layer delta rebuilds tar entry \"", e.name,
                        "\" with an absolute path or a \"..\" component");
  }
  next_header_ += header_.size() + e.size + (tar::kBlockSize - e.size % tar::kBlockSize) % tar::kBlockSize;
}

void TarGuard::Finish() {
  bool complete = in_trailer_ ? trailer_head_.size() == tar::kBlockSize : offset_ == next_header_;
  if (header_left_ > 0 || !complete) {
    throw Corruption("layer delta rebuilds a tar that ends inside an entry");
  }
}

}  // namespace outpost::delta
