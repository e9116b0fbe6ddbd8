// Images as the pipelines see them: a store, its manifest and config, and per layer the blob as
// the store holds it together with its diffID; plus spooling of blobs and tars to scratch files
// for random access.
#pragma once

#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/digest.h"
#include "common/file.h"
#include "image/image.h"
#include "storage/image_store.h"

namespace outpost::sync {

struct LayerRef {
  storage::ImageStore* store = nullptr;  // owned by the LoadedImage
  image::Descriptor desc;                // the blob as this store holds it
  Digest diff_id;
  image::Compression compression = image::Compression::kNone;  // sniffed from the blob
};

struct LoadedImage {
  storage::Reference ref;
  std::unique_ptr<storage::ImageStore> store;
  image::Manifest manifest;
  image::Config config;
  std::vector<LayerRef> layers;  // bottom first, one per manifest layer
};

// Opens `ref` for reading with `stores` (nullptr: file stores only) and loads its manifest (a
// single-platform image: an index is Unsupported, with a hint to name one manifest by digest),
// config and layers. Throws what the store throws, and Corruption when the config's diff_ids
// do not match the layer count.
LoadedImage LoadImage(const storage::Reference& ref, storage::StoreFactory* stores);

// Where scratch files go unless told otherwise: $TMPDIR, else /tmp. Not checked here: a bad
// $TMPDIR fails where the first scratch file is made, as an IOError naming it.
std::filesystem::path DefaultScratchDir();

// A file in a scratch directory that is removed when this object goes away.
class ScratchFile {
 public:
  explicit ScratchFile(const std::filesystem::path& path) : file_(path) {}
  Writer& writer() { return file_; }
  uint64_t size() const { return file_.bytes_written(); }
  const std::filesystem::path& path() const { return file_.temp_path(); }

 private:
  AtomicFile file_;  // never committed: its temp file is the scratch file
};

// A layer's tar and blob, each spooled on first use to `prefix` + "-tar" / "-blob" (removed with
// this object) by SpoolTar / SpoolBlob, so each is checked against the layer's diffID / blob
// digest before it is returned. `layer` must outlive this object. Safe to use from several
// threads: a second caller waits for the first one's spool. Throws what the spools throw.
class SpooledLayer {
 public:
  SpooledLayer(const LayerRef& layer, std::filesystem::path prefix) : layer_(layer), prefix_(std::move(prefix)) {}
  const LayerRef& layer() const { return layer_; }
  const RandomAccess& Tar();
  const RandomAccess& Blob();

 private:
  struct Spool {
    std::unique_ptr<ScratchFile> file;
    std::unique_ptr<RandomAccessFile> access;
  };
  const RandomAccess& Open(Spool& spool, const char* suffix, void (*write)(const LayerRef&, Writer&));

  const LayerRef& layer_;
  std::filesystem::path prefix_;
  std::mutex mu_;
  Spool tar_;
  Spool blob_;
};

// Copies a layer's blob as stored into `out`, checking its size and digest. Throws Corruption.
void SpoolBlob(const LayerRef& layer, Writer& out);
// Writes a layer's uncompressed tar into `out`, checking its diffID: that proves the tar, so the
// blob's own digest is not hashed as well (its size is: at most size + 1 bytes of the blob are
// read). Throws Corruption.
void SpoolTar(const LayerRef& layer, Writer& out);
// Copies a compressed layer's blob into `blob_out` and its tar into `tar_out` in one read of the
// blob, checking the blob's size and digest and the tar's diffID. Throws Corruption.
void SpoolBlobAndTar(const LayerRef& layer, Writer& blob_out, Writer& tar_out);

// Throws Security naming the layer if any entry path in the tar `tar` is absolute or contains
// "..". Reads the stream to its end.
void CheckTarPaths(Reader& tar, const std::string& what);

}  // namespace outpost::sync
