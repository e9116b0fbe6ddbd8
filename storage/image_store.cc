#include "storage/image_store.h"

#include <algorithm>

#include "common/error.h"
#include "common/file.h"
#include "storage/docker_archive_store.h"
#include "storage/file_tree.h"
#include "storage/oci_layout_store.h"

namespace outpost::storage {
namespace {

// How much of a read of `n` bytes a reader that has passed on `count` (<= size) bytes of a
// `size`-byte blob asks its source for: at most one byte beyond the end, enough to see that the
// source is longer than it should be without taking in more.
size_t Room(size_t n, uint64_t count, uint64_t size) {
  return static_cast<size_t>(std::min<uint64_t>(n, size + 1 - count));
}

Error Overlong(const std::string& what, uint64_t size) {
  return Corruption(what, ": longer than the ", std::to_string(size),
                    " bytes its descriptor says (cut off at byte ", std::to_string(size + 1), ")");
}

uint64_t NonNegative(int64_t size) { return size < 0 ? 0 : static_cast<uint64_t>(size); }

}  // namespace

void ImageStore::AdoptBlob(const Digest& digest, int64_t size, const std::filesystem::path& verified) {
  FileReader in(verified);
  WriteBlob(digest, size, in);
}

std::unique_ptr<ImageStore> FileStoreFactory::Open(const Reference& ref, bool for_write) {
  switch (ref.transport) {
    case Reference::Transport::kOci:
      return for_write ? OpenOciLayoutForWrite(ref.location) : OpenOciLayout(OpenDirectoryTree(ref.location));
    case Reference::Transport::kOciArchive:
      if (for_write) throw Unsupported(ref.text, ": oci-archive is read only; write an oci: layout instead");
      return OpenOciLayout(OpenTarTree(ref.location));
    case Reference::Transport::kDockerArchive:
      return for_write ? OpenDockerArchiveForWrite(ref.location) : OpenDockerArchive(ref.location);
    case Reference::Transport::kDocker:
      throw Unsupported(ref.text, ": registries are not opened here (only oci:, oci-archive: and docker-archive:)");
  }
  throw InvalidArgument(ref.text, ": unknown transport");
}

std::unique_ptr<ImageStore> OpenStore(const Reference& ref, StoreFactory* stores, bool for_write) {
  if (stores != nullptr) return stores->Open(ref, for_write);
  return FileStoreFactory().Open(ref, for_write);
}

SizedReader::SizedReader(std::unique_ptr<Reader> inner, int64_t size, std::string what)
    : inner_(std::move(inner)), size_(NonNegative(size)), what_(std::move(what)) {}

size_t SizedReader::Read(uint8_t* buf, size_t n) {
  if (n == 0) return 0;
  size_t got = inner_->Read(buf, Room(n, count_, size_));
  count_ += got;
  if (count_ > size_) throw Overlong(what_, size_);
  if (got == 0 && count_ < size_) {
    throw Corruption(what_, ": ended after ", std::to_string(count_), " of its ", std::to_string(size_), " bytes");
  }
  return got;
}

VerifyingReader::VerifyingReader(std::unique_ptr<Reader> inner, Digest digest, int64_t size, std::string what)
    : inner_(std::move(inner)), hashing_(*inner_), digest_(digest), size_(size), what_(std::move(what)) {}

size_t VerifyingReader::Read(uint8_t* buf, size_t n) {
  uint64_t size = NonNegative(size_);
  size_t got = hashing_.Read(buf, Room(n, hashing_.count(), size));
  if (hashing_.count() > size) throw Overlong(what_, size);
  if (got > 0 || n == 0 || checked_) return got;
  checked_ = true;
  Digest got_digest = hashing_.Finish();
  uint64_t count = hashing_.count();
  if (got_digest != digest_) {
    throw Corruption(what_, ": digest is ", got_digest.str(), " (", std::to_string(count), " bytes), expected ",
                     digest_.str(), " (", std::to_string(size_), " bytes)");
  }
  if (static_cast<int64_t>(count) != size_) {
    throw Corruption(what_, ": size is ", std::to_string(count), " bytes, expected ", std::to_string(size_));
  }
  return 0;
}

}  // namespace outpost::storage
