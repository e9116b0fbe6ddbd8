#include "registry/catalog.h"

#include "common/error.h"

namespace outpost::registry {

std::map<std::string, image::ManifestBlob> ListStoreImages(storage::ImageStore& store) {
  std::map<std::string, image::ManifestBlob> out;
  std::vector<std::string> tags;
  try {
    tags = store.ListTags();
  } catch (const Error& e) {
    if (e.kind() != Error::Kind::kNotFound) throw;
  }
  for (const std::string& tag : tags) {
    try {
      out.emplace(tag, store.ReadManifest(tag));
    } catch (const Error& e) {
      if (e.kind() != Error::Kind::kNotFound) throw;  // untagged between the listing and the read
    }
  }
  return out;
}

std::map<std::string, image::ManifestBlob> ListRegistryImages(RegistryStoreFactory& stores, const std::string& host,
                                                              const std::function<bool(const std::string&)>& wanted) {
  std::map<std::string, image::ManifestBlob> out;
  for (const std::string& repository : stores.OpenRepository(host, "")->ListRepositories()) {
    if (!wanted(repository)) continue;
    for (auto& [tag, manifest] : ListStoreImages(*stores.OpenRepository(host, repository))) {
      out.emplace(repository + ":" + tag, std::move(manifest));
    }
  }
  return out;
}

}  // namespace outpost::registry
