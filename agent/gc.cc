#include "agent/gc.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <iterator>
#include <map>

#include "agent/applier.h"
#include "agent/fetcher.h"
#include "agent/target_gc.h"
#include "common/error.h"
#include "common/file.h"
#include "image/image.h"
#include "protocol/bundle_file.h"

namespace outpost::agent {
namespace {

// The store holding `as` in the target (no tag).
std::unique_ptr<storage::ImageStore> StoreOf(const AgentConfig& config, const std::string& as, storage::StoreFactory& stores) {
  storage::Reference ref = IntoReference(config, "", as);
  ref.tag.clear();
  ref.digest.reset();
  return storage::OpenStore(ref, &stores, false);
}

// The blobs of `image` (its manifests, config and layers); none when the target no longer
// holds it.
void AddBlobs(storage::ImageStore& store, const std::string& image, std::set<std::string>& blobs) {
  image::ManifestBlob blob;
  try {
    blob = store.ReadManifest(image);
  } catch (const Error& e) {
    if (e.kind() != Error::Kind::kNotFound) throw;
    return;
  }
  blobs.insert(image);
  for (const image::Descriptor& d : image::ReferencedDescriptors(blob)) {
    if (image::IsManifestMediaType(d.media_type)) AddBlobs(store, d.digest.str(), blobs);
    blobs.insert(d.digest.str());
  }
}

// The `bases` that no published version outside `beyond` holds: those only a version that may be
// removed holds, which a transfer in flight still needs.
std::set<std::string> BasesOnlyIn(const AgentConfig& config, storage::StoreFactory& stores,
                                  const std::vector<PublishedVersion>& published,
                                  const std::vector<PublishedVersion>& beyond, const std::set<std::string>& bases) {
  if (bases.empty()) return {};
  std::set<int64_t> leaving;
  for (const PublishedVersion& v : beyond) leaving.insert(v.transfer);
  std::set<std::string> staying;
  for (const PublishedVersion& v : published) {
    if (!leaving.contains(v.transfer)) AddBlobs(*StoreOf(config, v.as, stores), v.manifest, staying);
  }
  std::set<std::string> needed;
  std::set_difference(bases.begin(), bases.end(), staying.begin(), staying.end(), std::inserter(needed, needed.end()));
  return needed;
}

// True when the image `manifest` names a blob of `blobs`.
bool NamesAny(storage::ImageStore& store, const std::string& manifest, const std::set<std::string>& blobs) {
  std::set<std::string> held;
  AddBlobs(store, manifest, held);
  return std::any_of(held.begin(), held.end(), [&](const std::string& b) { return blobs.contains(b); });
}

std::string TargetName(const AgentConfig& config) {
  return config.target_registry.empty() ? config.target.text : "docker://" + config.target_registry;
}

void Record(const AgentConfig& config, AgentState& state, const PublishedVersion& v, TargetRemoval result, std::string_view how) {
  if (result == TargetRemoval::kRemoved) {
    spdlog::info("site {}: removed {} (manifest {}, transfer {}) from {}: beyond its repository's keep", config.site, v.as,
                 v.manifest, v.transfer, TargetName(config));
    state.SetRemoved(v, std::string(how));
  } else if (result == TargetRemoval::kGone) {
    spdlog::info("site {}: {} no longer names manifest {} in {}: nothing to remove", config.site, v.as, v.manifest,
                 TargetName(config));
    state.SetRemoved(v, "gone");
  }
}

size_t RemoveFromOci(const AgentConfig& config, AgentState& state, const std::vector<PublishedVersion>& versions) {
  std::vector<TaggedManifest> images;
  for (const PublishedVersion& v : versions) images.push_back({v.as, v.manifest});
  const std::vector<TargetRemoval> results = RemoveFromLayout(config.target.location, images);
  for (size_t i = 0; i < versions.size(); ++i) Record(config, state, versions[i], results[i], "removed");
  return static_cast<size_t>(std::count(results.begin(), results.end(), TargetRemoval::kRemoved));
}

// The registry deletes by digest: `v.as` must still name it.
TargetRemoval DeleteVersion(const AgentConfig& config, const PublishedVersion& v, storage::StoreFactory& stores) {
  const storage::Reference ref = IntoReference(config, "", v.as);
  try {
    if (StoreOf(config, v.as, stores)->ReadManifest(ref.tag).digest.str() != v.manifest) return TargetRemoval::kGone;
  } catch (const Error& e) {
    if (e.kind() != Error::Kind::kNotFound) throw;
    return TargetRemoval::kGone;
  }
  TargetRemoval result = DeleteFromRegistry(ref.host(), ref.repository(), v.manifest);
  if (result == TargetRemoval::kRefused) {
    spdlog::warn("site {}: registry {} refuses to delete {} (manifest {}); it stays. Enable deletes in the registry "
                 "(distribution: storage.delete.enabled: true) for garbage collection",
                 config.site, ref.host(), v.as, v.manifest);
  }
  return result;
}

size_t RemoveFromRegistry(const AgentConfig& config, AgentState& state, const std::vector<PublishedVersion>& versions,
                          storage::StoreFactory& stores) {
  size_t removed = 0;
  for (const PublishedVersion& v : versions) {
    TargetRemoval result = DeleteVersion(config, v, stores);
    Record(config, state, v, result, "deleted");
    if (result == TargetRemoval::kRemoved) ++removed;
  }
  return removed;
}

}  // namespace

std::string RepositoryOf(const std::string& as) {
  const size_t colon = as.rfind(':');
  return colon == std::string::npos ? as : as.substr(0, colon);
}

GcChoice ChooseRemovals(const std::vector<PublishedVersion>& published,
                        const std::function<bool(const PublishedVersion&)>& is_base) {
  std::map<std::string, std::vector<const PublishedVersion*>> versions;  // per repository, newest first
  std::map<std::string, std::optional<uint32_t>> keeps;
  std::set<std::string> tags;
  for (auto it = published.rbegin(); it != published.rend(); ++it) {
    const std::string repo = RepositoryOf(it->as);
    std::optional<uint32_t>& keep = keeps[repo];
    if (!keep) keep = it->keep;
    if (tags.insert(it->as).second) versions[repo].push_back(&*it);
  }
  GcChoice choice;
  for (const auto& [repo, newest_first] : versions) {
    const size_t keep = keeps[repo].value_or(0);
    if (keep == 0 || newest_first.size() <= keep) continue;
    std::set<std::string> kept;
    for (size_t i = 0; i < keep; ++i) kept.insert(newest_first[i]->manifest);
    for (size_t i = newest_first.size(); i-- > keep;) {
      const PublishedVersion& v = *newest_first[i];
      if (kept.contains(v.manifest)) continue;
      (is_base(v) ? choice.spared : choice.remove).push_back(v);
    }
  }
  return choice;
}

std::optional<std::set<std::string>> PendingBases(const AgentConfig& config, AgentState& state,
                                                  const std::vector<WorkItem>& queued) {
  for (const WorkItem& item : queued) {
    if (!state.Find(item.id)) return std::nullopt;  // not begun: its head is still at the hub
  }
  std::set<std::string> bases;
  for (const TransferRow& row : state.Pending()) {
    if (row.durable_bytes < row.item.head_bytes) return std::nullopt;
    try {
      RandomAccessFile file(SpoolPath(config, row.item.id));
      const protocol::BundleHead head = protocol::ReadHead(file, TransferName(config, row.item));
      for (const protocol::BaseLayer& base : head.header().bases) bases.insert(base.digest.str());
    } catch (const Error& e) {
      spdlog::warn("{}: its bases cannot be read from its spool: {}", TransferName(config, row.item), e.what());
      return std::nullopt;
    }
  }
  return bases;
}

size_t CollectGarbage(const AgentConfig& config, AgentState& state, storage::StoreFactory& stores,
                      const std::vector<WorkItem>& queued) {
  const std::vector<PublishedVersion> published = state.Published();
  const std::vector<PublishedVersion> beyond = ChooseRemovals(published, [](const PublishedVersion&) { return false; }).remove;
  if (beyond.empty()) return 0;
  const bool oci = config.target_registry.empty() && config.target.transport == storage::Reference::Transport::kOci;
  const bool registry = !config.target_registry.empty() || config.target.transport == storage::Reference::Transport::kDocker;
  if (!oci && !registry) {
    spdlog::warn("site {}: older versions stay in {}: garbage collection removes images from oci: and docker:// targets only",
                 config.site, TargetName(config));
    return 0;
  }
  const std::optional<std::set<std::string>> bases = PendingBases(config, state, queued);
  if (!bases) {
    spdlog::info("site {}: older versions stay until every transfer not applied yet has its head here (its delta bases)",
                 config.site);
    return 0;
  }
  const std::set<std::string> needed = BasesOnlyIn(config, stores, published, beyond, *bases);
  const GcChoice choice = ChooseRemovals(published, [&](const PublishedVersion& v) {
    return !needed.empty() && NamesAny(*StoreOf(config, v.as, stores), v.manifest, needed);
  });
  for (const PublishedVersion& v : choice.spared) {
    spdlog::info("site {}: keeping {} (manifest {}) beyond its repository's keep: a transfer not applied yet uses it as a "
                 "delta base", config.site, v.as, v.manifest);
  }
  if (choice.remove.empty()) return 0;
  return oci ? RemoveFromOci(config, state, choice.remove) : RemoveFromRegistry(config, state, choice.remove, stores);
}

}  // namespace outpost::agent
