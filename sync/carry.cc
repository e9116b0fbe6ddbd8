#include "sync/carry.h"

#include <set>

#include "common/error.h"

namespace outpost::sync {
namespace {

// Reads `desc`'s blob from `store` whole, checked against the descriptor.
std::string ReadSmallBlob(storage::ImageStore& store, const image::Descriptor& desc, const std::string& what) {
  if (desc.size > kMaxCarriedBlobBytes) {
    throw Unsupported(what, ": blob ", desc.digest.str(), " is ", std::to_string(desc.size),
                      " bytes, more than a carried document may be (", std::to_string(kMaxCarriedBlobBytes), ")");
  }
  storage::VerifyingReader in(store.OpenBlob(desc.digest), desc.digest, desc.size, what + " blob " + desc.digest.str());
  return ReadAll(in, static_cast<size_t>(desc.size) + 1, what);
}

protocol::Document Ship(protocol::BundleWriter& writer, const Digest& digest, const std::string& bytes,
                        const std::string& media_type) {
  return {digest, bytes.size(), media_type, writer.AppendZstd(bytes)};
}

// The manifest `index` names that `store` lacks, or "" when it holds them all.
std::string MissingManifest(storage::ImageStore& store, const image::ManifestBlob& index) {
  for (const image::Descriptor& d : image::Index::Parse(index).manifests) {
    try {
      store.ReadManifest(d.digest.str());
    } catch (const Error& e) {
      if (e.kind() != Error::Kind::kNotFound) throw;
      return d.digest.str();
    }
  }
  return "";
}

}  // namespace

std::vector<protocol::CarriedDocument> AppendCarried(const std::vector<Carry>& carry, storage::StoreFactory* stores,
                                                     protocol::BundleWriter& writer) {
  std::vector<protocol::CarriedDocument> blobs, manifests;
  std::set<Digest> shipped;
  for (const Carry& c : carry) {
    auto store = storage::OpenStore(c.manifest, stores, false);
    image::ManifestBlob blob = store->ReadManifest(c.manifest.tag_or_digest());
    if (!blob.is_index()) {
      for (const image::Descriptor& d : image::ReferencedDescriptors(blob)) {
        if (!shipped.insert(d.digest).second) continue;
        blobs.push_back({Ship(writer, d.digest, ReadSmallBlob(*store, d, c.manifest.text), d.media_type), false, ""});
      }
    }
    manifests.push_back({Ship(writer, blob.digest, blob.bytes, blob.media_type), true, c.tag});
  }
  blobs.insert(blobs.end(), manifests.begin(), manifests.end());
  return blobs;
}

std::vector<std::string> PublishCarried(const protocol::BundleReader& bundle, storage::ImageStore& store,
                                        const std::string& tag_prefix) {
  std::vector<std::string> warnings;
  for (const protocol::CarriedDocument& c : bundle.header().carried) {
    const protocol::Document& d = c.document;
    std::string bytes = bundle.ReadDocument(d, "carried " + d.digest.str());
    if (!c.manifest) {
      if (store.HasBlob(d.digest)) continue;
      StringReader in(bytes);
      store.WriteBlob(d.digest, static_cast<int64_t>(bytes.size()), in);
      continue;
    }
    image::ManifestBlob manifest = image::ManifestBlob::FromBytes(std::move(bytes), d.media_type);
    std::string tag = c.tag.empty() ? "" : tag_prefix + c.tag;
    if (manifest.is_index()) {
      if (std::string missing = MissingManifest(store, manifest); !missing.empty()) {
        warnings.push_back("index " + d.digest.str() + (tag.empty() ? "" : " (tag " + tag + ")") +
                           " not published yet: this site lacks its manifest " + missing);
        continue;
      }
    }
    store.WriteManifest(manifest, tag);
  }
  return warnings;
}

}  // namespace outpost::sync
