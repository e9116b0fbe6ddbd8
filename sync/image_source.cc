#include "sync/image_source.h"

#include <cstdlib>
#include <functional>

#include "common/error.h"
#include "compress/decompress.h"
#include "tar/tar_reader.h"

namespace outpost::sync {
namespace {

image::Compression SniffLayer(storage::ImageStore& store, const image::Descriptor& desc) {
  auto r = store.OpenBlob(desc.digest);
  uint8_t head[4];
  size_t n = ReadUpTo(*r, head, sizeof(head));
  return image::SniffCompression(std::string_view(reinterpret_cast<const char*>(head), n));
}

std::unique_ptr<Reader> OpenVerified(const LayerRef& layer) {
  return std::make_unique<storage::VerifyingReader>(layer.store->OpenBlob(layer.desc.digest), layer.desc.digest,
                                                    layer.desc.size, "layer " + layer.desc.digest.str());
}

// Passes what it reads from `inner` on to `copy` as well.
class TeeReader : public Reader {
 public:
  TeeReader(std::unique_ptr<Reader> inner, Writer& copy) : inner_(std::move(inner)), copy_(copy) {}
  size_t Read(uint8_t* buf, size_t n) override {
    size_t got = inner_->Read(buf, n);
    copy_.Write(buf, got);
    return got;
  }

 private:
  std::unique_ptr<Reader> inner_;
  Writer& copy_;
};

// Uncompresses `blob` (the layer's blob) into `out` and checks the result against the layer's
// diffID; `finish_blob` runs after the last uncompressed byte, while `blob` is still open.
void UncompressInto(const LayerRef& layer, std::unique_ptr<Reader> blob, Writer& out,
                    const std::function<void()>& finish_blob = {}) {
  auto tar = compress::OpenDecompressed(std::move(blob), layer.compression, "layer " + layer.desc.digest.str());
  HashingWriter hashing(&out);
  Copy(*tar, hashing);
  if (finish_blob) finish_blob();
  Digest got = hashing.Finish();
  if (got != layer.diff_id) {
    throw Corruption("layer ", layer.desc.digest.str(), " uncompresses to ", got.str(),
                     ", not its diffID ", layer.diff_id.str());
  }
}

}  // namespace

LoadedImage LoadImage(const storage::Reference& ref, storage::StoreFactory* stores) {
  LoadedImage img;
  img.ref = ref;
  img.store = storage::OpenStore(ref, stores, false);
  image::ManifestBlob blob = img.store->ReadManifest(ref.tag_or_digest());
  if (blob.is_index()) {
    throw Unsupported(ref.text, " is a multi-platform index (", blob.digest.str(),
                      "): name one platform's manifest by digest");
  }
  img.manifest = image::Manifest::Parse(blob);
  storage::VerifyingReader config_reader(img.store->OpenBlob(img.manifest.config.digest),
                                         img.manifest.config.digest, img.manifest.config.size,
                                         "config of " + ref.text);
  img.config = image::Config::Parse(ReadAll(config_reader, 64 << 20, "config of " + ref.text));
  if (img.config.diff_ids.size() != img.manifest.layers.size()) {
    throw Corruption(ref.text, ": config lists ", std::to_string(img.config.diff_ids.size()),
                     " diff_ids for ", std::to_string(img.manifest.layers.size()), " layers");
  }
  for (size_t i = 0; i < img.manifest.layers.size(); ++i) {
    const image::Descriptor& d = img.manifest.layers[i];
    img.layers.push_back({img.store.get(), d, img.config.diff_ids[i], SniffLayer(*img.store, d)});
  }
  return img;
}

void SpoolBlob(const LayerRef& layer, Writer& out) {
  auto r = OpenVerified(layer);
  Copy(*r, out);
}

void SpoolTar(const LayerRef& layer, Writer& out) {
  UncompressInto(layer,
                 std::make_unique<storage::SizedReader>(layer.store->OpenBlob(layer.desc.digest), layer.desc.size,
                                                        "layer " + layer.desc.digest.str()),
                 out);
}

std::filesystem::path DefaultScratchDir() {
  const char* tmpdir = std::getenv("TMPDIR");
  return tmpdir != nullptr && *tmpdir != '\0' ? std::filesystem::path(tmpdir) : std::filesystem::path("/tmp");
}

void SpoolBlobAndTar(const LayerRef& layer, Writer& blob_out, Writer& tar_out) {
  auto tee = std::make_unique<TeeReader>(OpenVerified(layer), blob_out);
  TeeReader& blob = *tee;
  UncompressInto(layer, std::move(tee), tar_out, [&] {
    NullWriter rest;  // a decoder may stop before the blob's end: the rest is still copied, and
    Copy(blob, rest);  // reaching the end checks the blob's size and digest
  });
}

const RandomAccess& SpooledLayer::Tar() { return Open(tar_, "-tar", SpoolTar); }

const RandomAccess& SpooledLayer::Blob() { return Open(blob_, "-blob", SpoolBlob); }

const RandomAccess& SpooledLayer::Open(Spool& spool, const char* suffix, void (*write)(const LayerRef&, Writer&)) {
  std::lock_guard lock(mu_);
  if (!spool.access) {
    auto file = std::make_unique<ScratchFile>(prefix_.string() + suffix);
    write(layer_, file->writer());
    spool.access = std::make_unique<RandomAccessFile>(file->path());
    spool.file = std::move(file);
  }
  return *spool.access;
}

void CheckTarPaths(Reader& tar, const std::string& what) {
  tar::Reader reader(tar);
  tar::Entry entry;
  while (reader.Next(&entry)) {
    if (!tar::IsSafeEntry(entry)) {
      throw SecurityError(what, ": tar entry \"", entry.name, "\" escapes the extraction directory");
    }
  }
  uint8_t buf[4096];
  while (reader.ReadTrailer(buf, sizeof(buf)) > 0) {
  }
}

}  // namespace outpost::sync
