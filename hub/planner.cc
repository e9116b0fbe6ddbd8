#include "hub/planner.h"

#include <fnmatch.h>

#include <algorithm>
#include <set>

#include "registry/catalog.h"

namespace outpost::hub {
namespace {

// True when some subscription's glob could match an image of `repo`.
bool RepoWanted(const HubConfig& config, const std::string& repo) {
  for (const SiteConfig& site : config.sites) {
    for (const Subscription& sub : site.subscriptions) {
      for (const std::string& glob : sub.images) {
        if (fnmatch(RepoOf(glob).c_str(), repo.c_str(), 0) == 0) return true;
      }
    }
  }
  return false;
}

SourceImages Digests(const std::map<std::string, image::ManifestBlob>& images) {
  SourceImages out;
  for (const auto& [ref, blob] : images) {
    if (!blob.is_index()) out.emplace(ref, blob.digest.str());
  }
  return out;
}

}  // namespace

std::string RepoOf(const std::string& ref) { return ref.substr(0, ref.rfind(':')); }

SourceImages ListSource(const HubConfig& config, registry::RegistryStoreFactory& stores) {
  const SourceConfig& source = *config.source;
  if (!source.registry.empty()) {
    auto wanted = [&](const std::string& repo) { return RepoWanted(config, repo); };
    return Digests(registry::ListRegistryImages(stores, source.registry, wanted));
  }
  storage::Reference layout = storage::Reference::Parse("oci:" + source.layout.string());
  SourceImages all = Digests(registry::ListStoreImages(*storage::OpenStore(layout, &stores, false)));
  std::erase_if(all, [&](const auto& image) { return !RepoWanted(config, RepoOf(image.first)); });
  return all;
}

std::vector<PlannedImage> PlanImages(const HubConfig& config, const SourceImages& source,
                                     const std::map<std::string, SiteInventory>& inventories,
                                     const std::function<bool(const std::string&, const std::string&, const std::string&)>& planned) {
  std::set<std::pair<std::string, std::string>> held_by_source;  // (REPO, manifest)
  for (const auto& [ref, manifest] : source) held_by_source.emplace(RepoOf(ref), manifest);
  std::vector<PlannedImage> out;
  for (const SiteConfig& site : config.sites) {
    auto inventory = inventories.find(site.name);
    if (inventory == inventories.end()) continue;
    std::set<std::string> site_manifests;
    for (const auto& [ref, manifest] : inventory->second.images) site_manifests.insert(manifest);
    for (const auto& [ref, manifest] : source) {
      const Subscription* sub = site.Subscribed(ref);
      if (sub == nullptr || site_manifests.contains(manifest) || planned(site.name, ref, manifest)) continue;
      PlannedImage image{site.name, ref, RepoOf(ref), manifest, {}, sub};
      for (const auto& [held_ref, held_manifest] : inventory->second.images) {
        bool usable = RepoOf(held_ref) == image.repo && held_by_source.contains({image.repo, held_manifest});
        if (usable && std::find(image.bases.begin(), image.bases.end(), held_manifest) == image.bases.end()) {
          image.bases.push_back(held_manifest);
        }
      }
      out.push_back(std::move(image));
    }
  }
  return out;
}

}  // namespace outpost::hub
