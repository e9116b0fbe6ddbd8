#include "storage/image_store.h"

#include "common/error.h"
#include "common/file.h"
#include "storage/docker_archive_store.h"
#include "storage/file_tree.h"
#include "storage/oci_layout_store.h"

namespace outpost::storage {
namespace {

RegistryOpener& Opener() {
  static RegistryOpener opener;
  return opener;
}

}  // namespace

void RegisterRegistryOpener(RegistryOpener opener) { Opener() = std::move(opener); }

void ImageStore::AdoptBlob(const Digest& digest, int64_t size, const std::filesystem::path& verified) {
  FileReader in(verified);
  WriteBlob(digest, size, in);
}

std::unique_ptr<ImageStore> OpenStore(const Reference& ref, const StoreOptions& options, bool for_write) {
  switch (ref.transport) {
    case Reference::Transport::kOci:
      return for_write ? OpenOciLayoutForWrite(ref.location) : OpenOciLayout(OpenDirectoryTree(ref.location));
    case Reference::Transport::kOciArchive:
      if (for_write) throw Unsupported(ref.text, ": oci-archive is read only; write an oci: layout instead");
      return OpenOciLayout(OpenTarTree(ref.location));
    case Reference::Transport::kDockerArchive:
      return for_write ? OpenDockerArchiveForWrite(ref.location) : OpenDockerArchive(ref.location);
    case Reference::Transport::kDocker:
      if (!Opener()) throw Unsupported(ref.text, ": this build of outpost has no registry support");
      return Opener()(ref, options);
  }
  throw InvalidArgument(ref.text, ": unknown transport");
}

VerifyingReader::VerifyingReader(std::unique_ptr<Reader> inner, Digest digest, int64_t size, std::string what)
    : inner_(std::move(inner)), hashing_(*inner_), digest_(digest), size_(size), what_(std::move(what)) {}

size_t VerifyingReader::Read(uint8_t* buf, size_t n) {
  size_t got = hashing_.Read(buf, n);
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
