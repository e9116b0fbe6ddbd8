// What the hub sends by itself: the subscribed images of its source that a site does not hold,
// each with the bases the bundle is diffed against (docs/hub-state.md, "Plans").
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "hub/hub_config.h"
#include "hub/hub_state.h"
#include "registry/store_factory.h"

namespace outpost::hub {

// The source's images: "REPO:TAG" -> "sha256:<hex>" of its manifest.
using SourceImages = std::map<std::string, std::string>;

// One image to diff and queue for one site.
struct PlannedImage {
  std::string site;
  std::string ref;        // "REPO:TAG", the transfer's `as`
  std::string repo;       // REPO
  std::string manifest;   // the source's manifest digest of `ref`
  std::vector<std::string> bases;  // manifest digests the site holds of REPO that the source holds too
  const Subscription* subscription = nullptr;  // points into the HubConfig
};

// "REPO" of "REPO:TAG" (the part before the last ':').
std::string RepoOf(const std::string& ref);

// Lists the source's images of every repository some subscription can match (a registry's
// catalog filtered by the globs' repository parts; an OCI layout's "REPO:TAG" tags). Index
// manifests (multi-arch) are left out: not supported yet. Blocking. Throws what the stores throw.
SourceImages ListSource(const HubConfig& config, registry::RegistryStoreFactory& stores);

// Pure: for each site with an inventory (`inventories`; a site without one is not planned for,
// since the hub does not know what it holds) and each source image it is subscribed to whose
// manifest its inventory lacks under any name, and which `planned(site, ref, manifest)` says is
// not planned yet: the image with its bases. By site (config order), then ref.
std::vector<PlannedImage> PlanImages(const HubConfig& config, const SourceImages& source,
                                     const std::map<std::string, SiteInventory>& inventories,
                                     const std::function<bool(const std::string&, const std::string&, const std::string&)>& planned);

}  // namespace outpost::hub
