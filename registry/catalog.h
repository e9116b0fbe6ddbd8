// What a store or a whole registry holds, image by image: the listing the hub polls its source
// with and the agent reports its target's inventory with.
#pragma once

#include <functional>
#include <map>
#include <string>

#include "image/image.h"
#include "registry/store_factory.h"
#include "storage/image_store.h"

namespace outpost::registry {

// Every tag `store` holds -> the manifest (or index) it names. A store that does not exist yet
// (NotFound) holds nothing. Throws what the store throws otherwise.
std::map<std::string, image::ManifestBlob> ListStoreImages(storage::ImageStore& store);

// Every tag of every repository of registry `host` (its catalog) that `wanted(repository)`
// accepts, as "REPO:TAG" -> its manifest (or index). Throws what the registry store throws.
std::map<std::string, image::ManifestBlob> ListRegistryImages(RegistryStoreFactory& stores, const std::string& host,
                                                              const std::function<bool(const std::string&)>& wanted);

}  // namespace outpost::registry
