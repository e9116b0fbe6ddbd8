#include "hub/planner.h"

#include <fnmatch.h>

#include <algorithm>
#include <set>
#include <tuple>

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
    out.emplace(ref, blob.digest.str());
    if (blob.is_index()) out.indexes.emplace(blob.digest.str(), image::Index::Parse(blob).manifests);
  }
  return out;
}

// The tags `sha256-<hex><suffix>` that attach documents to the manifest <hex> names: cosign's
// signatures, attestations and SBOMs, and "" for the OCI referrers tag schema (an index of the
// manifests whose `subject` it is, kept by clients of registries without the referrers API).
constexpr std::string_view kAttachedSuffixes[] = {".sig", ".att", ".sbom", ""};

std::string TagOf(const std::string& ref) { return ref.substr(ref.rfind(':') + 1); }

bool TakesPlatform(const Subscription& sub, const image::Platform& platform) {
  if (sub.platforms.empty()) return true;
  return std::any_of(sub.platforms.begin(), sub.platforms.end(),
                     [&](const std::string& want) { return platform.Matches(image::Platform::Parse(want)); });
}


// Plans one site's images against its inventory.
class SitePlanner {
 public:
  using PlannedFn = std::function<bool(const std::string&, const std::string&, const std::string&)>;
  SitePlanner(const SourceImages& source, const SiteConfig& site, const SiteInventory& inventory, const PlannedFn& planned)
      : source_(source), site_(site), inventory_(inventory), planned_(planned) {
    for (const auto& [ref, manifest] : source) {
      held_by_source_.emplace(RepoOf(ref), manifest);
      for (const image::Descriptor& d : Entries(manifest)) held_by_source_.emplace(RepoOf(ref), d.digest.str());
    }
    for (const auto& [ref, manifest] : inventory.images) {
      site_manifests_.insert(manifest);
      for (const image::Descriptor& d : Entries(manifest)) site_manifests_.insert(d.digest.str());  // published only when all are held
    }
  }

  void Plan(std::vector<PlannedImage>& out) {
    for (const auto& [ref, manifest] : source_) {
      const Subscription* sub = site_.Subscribed(ref);
      if (sub == nullptr || IsAttachedTag(TagOf(ref))) continue;
      if (source_.indexes.contains(manifest)) {
        PlanIndex(ref, manifest, *sub, out);
      } else if (Wanted(ref, manifest)) {
        out.push_back(Image(ref, RepoOf(ref), manifest, *sub));
      }
    }
  }

 private:
  const std::vector<image::Descriptor>& Entries(const std::string& manifest) const {
    static const std::vector<image::Descriptor> kNone;
    auto it = source_.indexes.find(manifest);
    return it == source_.indexes.end() ? kNone : it->second;
  }

  bool Wanted(const std::string& as, const std::string& manifest) const {
    return !site_manifests_.contains(manifest) && !planned_(site_.name, as, manifest);
  }

  // Each platform manifest `sub` takes, by digest; the index itself rides along with each of
  // them when `sub` takes every platform (the site publishes it once it holds them all).
  void PlanIndex(const std::string& ref, const std::string& index, const Subscription& sub, std::vector<PlannedImage>& out) {
    const std::string repo = RepoOf(ref);
    std::vector<CarriedManifest> with_index;
    std::vector<std::string> taken;
    bool all = true;
    for (const image::Descriptor& d : Entries(index)) {
      if (!image::IsPlatformImage(d)) {  // an attestation: carried along with the index, never planned
        with_index.push_back({d.digest.str(), ""});
      } else if (TakesPlatform(sub, *d.platform)) {
        taken.push_back(d.digest.str());
      } else {
        all = false;
      }
    }
    if (all && !site_manifests_.contains(index)) {
      with_index.push_back({index, TagOf(ref)});
      AddAttachedTags(repo, index, with_index);
    } else {
      with_index.clear();
    }
    for (const std::string& manifest : taken) {
      const std::string as = repo + "@" + manifest;
      if (!Wanted(as, manifest)) continue;
      PlannedImage image = Image(as, repo, manifest, sub);
      image.carry.insert(image.carry.end(), with_index.begin(), with_index.end());
      out.push_back(std::move(image));
    }
  }

  PlannedImage Image(const std::string& as, const std::string& repo, const std::string& manifest, const Subscription& sub) const {
    PlannedImage image;
    image.site = site_.name;
    image.ref = as;
    image.repo = repo;
    image.manifest = manifest;
    image.subscription = &sub;
    std::pair<std::string, std::string> unknown_to_source;  // the last such image by name
    for (const auto& [held_ref, held] : inventory_.images) {
      if (RepoOf(held_ref) != repo || IsAttachedTag(TagOf(held_ref))) continue;  // signatures are no bases
      if (!held_by_source_.contains({repo, held})) {
        unknown_to_source = {held_ref, held};
        continue;
      }
      std::vector<std::string> bases{held};
      if (source_.indexes.contains(held)) {
        bases.clear();
        for (const image::Descriptor& d : Entries(held)) {
          if (image::IsPlatformImage(d)) bases.push_back(d.digest.str());
        }
      }
      for (const std::string& base : bases) {
        if (std::find(image.bases.begin(), image.bases.end(), base) == image.bases.end()) image.bases.push_back(base);
      }
    }
    if (image.bases.empty()) std::tie(image.signature_ref, image.signature_manifest) = unknown_to_source;
    AddAttachedTags(repo, manifest, image.carry);
    return image;
  }

  // The source's attached tags of `manifest` in `repo`; a referrers index comes after the
  // referrers it lists (untagged), so the site publishes it once it holds them all.
  void AddAttachedTags(const std::string& repo, const std::string& manifest, std::vector<CarriedManifest>& carry) const {
    const std::string tag = "sha256-" + Digest::Parse(manifest).hex();
    for (std::string_view suffix : kAttachedSuffixes) {
      auto it = source_.find(repo + ":" + tag + std::string(suffix));
      if (it == source_.end()) continue;
      for (const image::Descriptor& referrer : Entries(it->second)) carry.push_back({referrer.digest.str(), ""});
      carry.push_back({it->second, tag + std::string(suffix)});
    }
  }

  const SourceImages& source_;
  const SiteConfig& site_;
  const SiteInventory& inventory_;
  const PlannedFn& planned_;
  std::set<std::pair<std::string, std::string>> held_by_source_;  // (REPO, manifest)
  std::set<std::string> site_manifests_;
};

}  // namespace

std::string RepoOf(const std::string& ref) {
  size_t at = ref.find('@');
  return ref.substr(0, at != std::string::npos ? at : ref.rfind(':'));
}

bool IsAttachedTag(std::string_view tag) {
  constexpr std::string_view kPrefix = "sha256-";
  if (!tag.starts_with(kPrefix) || tag.size() < kPrefix.size() + 64) return false;
  std::string_view hex = tag.substr(kPrefix.size(), 64);
  if (hex.find_first_not_of("0123456789abcdef") != std::string_view::npos) return false;
  std::string_view suffix = tag.substr(kPrefix.size() + 64);
  return std::find(std::begin(kAttachedSuffixes), std::end(kAttachedSuffixes), suffix) != std::end(kAttachedSuffixes);
}

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
  std::vector<PlannedImage> out;
  for (const SiteConfig& site : config.sites) {
    auto inventory = inventories.find(site.name);
    if (inventory == inventories.end()) continue;
    SitePlanner(source, site, inventory->second, planned).Plan(out);
  }
  return out;
}

sync::DiffOptions PlannedDiffOptions(const HubConfig& config, const PlannedImage& image,
                                     registry::RegistryStoreFactory& stores, const std::filesystem::path& scratch,
                                     const std::filesystem::path& output) {
  sync::DiffOptions o;
  for (const std::string& base : image.bases) {
    o.from.push_back(storage::Reference::Parse(config.source->ImageRef(image.repo, base)));
  }
  o.from_signature = image.signature;
  o.to = storage::Reference::Parse(config.source->ImageRef(image.repo, image.manifest));
  o.output = output;
  o.stores = &stores;
  o.scratch = scratch;
  o.cache = config.state_dir / "cache";
  for (const CarriedManifest& c : image.carry) {
    o.carry.push_back({storage::Reference::Parse(config.source->ImageRef(image.repo, c.manifest)), c.tag});
  }
  return o;
}

}  // namespace outpost::hub
