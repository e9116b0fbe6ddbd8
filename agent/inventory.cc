#include "agent/inventory.h"

#include <nlohmann/json.hpp>

#include "common/error.h"
#include "link/http.h"
#include "registry/catalog.h"
#include "sync/image_signature.h"

namespace outpost::agent {
namespace {

void Add(Inventory& out, const std::string& name, const image::ManifestBlob& blob) {
  out.images.emplace(name, blob.digest.str());
  if (blob.is_index()) return;
  image::Manifest manifest = image::Manifest::Parse(blob);
  out.blobs.insert(manifest.config.digest.str());
  for (const image::Descriptor& layer : manifest.layers) out.blobs.insert(layer.digest.str());
}

}  // namespace

Inventory TakeInventory(const AgentConfig& config, registry::RegistryStoreFactory& stores) {
  Inventory out;
  bool registry = !config.target_registry.empty() || config.target.transport == storage::Reference::Transport::kDocker;
  if (registry) {
    std::string host = config.target_registry.empty() ? config.target.host() : config.target_registry;
    for (const auto& [name, blob] : registry::ListRegistryImages(stores, host, [](const std::string&) { return true; })) {
      Add(out, name, blob);
    }
    return out;
  }
  storage::Reference store = config.target;
  store.tag.clear();
  store.digest.reset();
  std::unique_ptr<storage::ImageStore> opened;
  try {
    opened = storage::OpenStore(store, &stores, false);
  } catch (const Error& e) {
    if (e.kind() != Error::Kind::kNotFound) throw;
    return out;  // nothing applied yet
  }
  for (const auto& [name, blob] : registry::ListStoreImages(*opened)) Add(out, name, blob);
  return out;
}

std::string InventoryBody(const Inventory& inventory) {
  nlohmann::json body = {{"images", inventory.images}, {"blobs", inventory.blobs}, {"signatures", sync::kImageSignatureVersion}};
  std::string text = body.dump();
  if (text.size() <= link::kMaxInventoryBytes) return text;
  body["blobs"] = nlohmann::json::array();
  return body.dump();
}

}  // namespace outpost::agent
