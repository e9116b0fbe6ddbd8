// What the hub sends by itself: the subscribed images of its source that a site does not hold,
// each with the bases the bundle is diffed against (docs/hub-state.md, "Plans").
#pragma once

#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "hub/hub_config.h"
#include "hub/hub_state.h"
#include "registry/store_factory.h"
#include "sync/diff.h"

namespace outpost::hub {

// The source's images: "REPO:TAG" -> "sha256:<hex>" of its manifest or multi-platform index.
struct SourceImages : std::map<std::string, std::string> {
  using map::map;
  // Each index named above -> the manifests it names (with their platforms).
  std::map<std::string, std::vector<image::Descriptor>> indexes;
};

// A manifest carried along with a planned image (sync::Carry): its digest in the image's
// repository and the tag the site points at it ("" for none).
struct CarriedManifest {
  std::string manifest;
  std::string tag;
  friend bool operator==(const CarriedManifest&, const CarriedManifest&) = default;
};

// One image to diff and queue for one site.
struct PlannedImage {
  std::string site;
  // The transfer's `as`: "REPO:TAG", or "REPO@DIGEST" for one platform of a multi-platform
  // index (published by digest; the tag goes with the index, carried once all its platforms are
  // at the site).
  std::string ref;
  std::string repo;       // REPO
  std::string manifest;   // the source's manifest digest of `ref`
  std::vector<std::string> bases;  // manifest digests the site holds of REPO that the source holds too
  // Only when `bases` is empty: the site's image of REPO that the source does not hold (the last
  // by name), "REPO:TAG" and its manifest digest, whose signature the hub may diff against
  // instead of sending whole blobs (docs/hub-state.md, "Signatures"). "" when there is none.
  std::string signature_ref;
  std::string signature_manifest;
  // Set by the caller when it holds the site's signature of signature_manifest: the diff is
  // against that file (sync::DiffOptions::from_signature). Empty: against `bases` only.
  std::filesystem::path signature;
  const Subscription* subscription = nullptr;  // points into the HubConfig
  // Carried along (docs/hub-state.md, "Carried along"): the attached tags
  // `sha256-<hex>.sig/.att/.sbom` of `manifest`, its referrers index `sha256-<hex>` after the
  // referrers it lists, and, when the site takes every platform of the
  // index `manifest` belongs to, that index with its tag and its own attached tags.
  std::vector<CarriedManifest> carry;
};

// "REPO" of "REPO:TAG" (the part before the last ':') or of "REPO@DIGEST".
std::string RepoOf(const std::string& ref);

// True for a tag that attaches documents to the manifest it names: cosign-style
// "sha256-<64 hex>.sig", ".att" or ".sbom", and the OCI referrers tag "sha256-<64 hex>" (an
// index of the manifests whose subject it is). Never planned as an image of its own, carried
// along with the image it names instead.
bool IsAttachedTag(std::string_view tag);

// Lists the source's images of every repository some subscription can match (a registry's
// catalog filtered by the globs' repository parts; an OCI layout's "REPO:TAG" tags), with the
// platform manifests of each multi-platform index. Blocking. Throws what the stores throw.
SourceImages ListSource(const HubConfig& config, registry::RegistryStoreFactory& stores);

// Pure: for each site with an inventory (`inventories`; a site without one is not planned for,
// since the hub does not know what it holds) and each source image it is subscribed to whose
// manifest its inventory lacks under any name, and which `planned(site, ref, manifest)` says is
// not planned yet: the image with its bases and what is carried along. A tag naming an index
// plans each platform manifest the subscription's `platforms` take as "REPO@DIGEST" (platform
// "unknown/unknown" entries, such as build attestations, are carried, not planned). Attached
// tags (IsAttachedTag) are carried, not planned. By site (config order), then ref.
std::vector<PlannedImage> PlanImages(const HubConfig& config, const SourceImages& source,
                                     const std::map<std::string, SiteInventory>& inventories,
                                     const std::function<bool(const std::string&, const std::string&, const std::string&)>& planned);

// The diff that makes `image`'s bundle: from its bases (and its signature file, when set) to its
// manifest, both read from the source through `stores`, written to `output`, with `scratch` for work files and the hub's
// layer cache under state_dir. Unsigned: a caller that ships the bundle sets sign_key.
sync::DiffOptions PlannedDiffOptions(const HubConfig& config, const PlannedImage& image,
                                     registry::RegistryStoreFactory& stores, const std::filesystem::path& scratch,
                                     const std::filesystem::path& output);

}  // namespace outpost::hub
