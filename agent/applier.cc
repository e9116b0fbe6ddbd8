#include "agent/applier.h"

#include <spdlog/spdlog.h>

#include "common/error.h"
#include "common/file.h"
#include "image/image.h"
#include "protocol/bundle_file.h"
#include "sync/apply.h"

namespace outpost::agent {
namespace {

// The image manifests a tag names, as the end of a reference: ":TAG" when it is an image,
// "@DIGEST" of each platform's manifest when it is an index. None for attachments (signatures,
// SBOMs, referrers indexes) and attestation entries: they are no bases, and an index cannot be
// one as a whole.
std::vector<std::string> ImagesOfTag(storage::ImageStore& store, const std::string& tag) {
  image::ManifestBlob blob = store.ReadManifest(tag);
  if (!blob.is_index()) {
    if (image::Manifest::Parse(blob).is_image()) return {":" + tag};
    return {};
  }
  std::vector<std::string> out;
  for (const image::Descriptor& d : image::Index::Parse(blob).manifests) {
    if (image::IsPlatformImage(d)) out.push_back("@" + d.digest.str());
  }
  return out;
}

// One base per image `where`'s store holds (ImagesOfTag of each tag): the bundle's bases are
// among them, and a store holding several images cannot be named as one. None when the store
// does not exist yet.
std::vector<storage::Reference> TargetImages(const storage::Reference& where, storage::StoreFactory& stores) {
  storage::Reference store = where;
  store.tag.clear();
  store.digest.reset();
  std::unique_ptr<storage::ImageStore> opened;
  std::vector<std::string> tags;
  try {
    opened = storage::OpenStore(store, &stores, false);
    tags = opened->ListTags();
  } catch (const Error& e) {
    if (e.kind() != Error::Kind::kNotFound) throw;
  }
  const char* prefix = "oci:";
  switch (where.transport) {
    case storage::Reference::Transport::kOci: prefix = "oci:"; break;
    case storage::Reference::Transport::kOciArchive: prefix = "oci-archive:"; break;
    case storage::Reference::Transport::kDockerArchive: prefix = "docker-archive:"; break;
    case storage::Reference::Transport::kDocker: prefix = "docker://"; break;
  }
  std::vector<storage::Reference> images;
  for (const std::string& tag : tags) {
    for (const std::string& at : ImagesOfTag(*opened, tag)) images.push_back(storage::Reference::Parse(prefix + where.location + at));
  }
  return images;
}

}  // namespace

storage::Reference IntoReference(const AgentConfig& config, const std::string& bundle_target, const std::string& as) {
  if (!config.target_registry.empty()) {
    std::string name = as;
    if (name.empty()) {
      storage::Reference named;
      try {
        named = storage::Reference::Parse(bundle_target);
      } catch (const Error&) {
      }
      if (named.transport != storage::Reference::Transport::kDocker || named.tag.empty()) {
        throw InvalidArgument("the bundle's target \"", bundle_target, "\" names no repository and tag for registry ",
                              config.target_registry, " (queue it with --as REPO:TAG)");
      }
      name = named.repository() + ":" + named.tag;
    }
    return storage::Reference::Parse("docker://" + config.target_registry + "/" + name);
  }
  if (as.empty()) return config.target;
  if (config.target.transport == storage::Reference::Transport::kDocker) {
    return storage::Reference::Parse("docker://" + config.target.host() + "/" + as);
  }
  storage::Reference into = config.target;
  into.tag.clear();
  into.digest.reset();
  if (size_t at = as.find('@'); at != std::string::npos) {
    into.digest = Digest::Parse(as.substr(at + 1));
    into.text += as.substr(at);
  } else {
    into.tag = as;
    into.text += ":" + as;
  }
  return into;
}

std::string CarriedTagPrefix(const AgentConfig& config, const std::string& as) {
  bool file_store = config.target_registry.empty() && config.target.transport != storage::Reference::Transport::kDocker;
  if (!file_store || as.empty()) return "";
  size_t end = as.find('@');
  return as.substr(0, end == std::string::npos ? as.rfind(':') : end) + ":";
}

ApplyOutcome ApplyBundle(const ApplyJob& job) {
  ApplyOutcome outcome;
  try {
    const std::filesystem::path scratch = job.config.state_dir / "scratch";
    std::filesystem::create_directories(scratch);
    RandomAccessFile file(job.spool);
    const protocol::BundleHead head = protocol::ReadHead(file, job.what, job.verify_key.get());
    sync::ApplyOptions o;
    o.bundle = job.spool;
    o.into = IntoReference(job.config, head.header().target_reference, job.as);
    o.bases = TargetImages(o.into, *job.stores);
    o.carried_tag_prefix = CarriedTagPrefix(job.config, job.as);
    o.verify_key = job.verify_key.get();
    o.stores = job.stores.get();
    o.scratch = scratch;
    sync::ApplyReport report = sync::Apply(o);
    for (const std::string& w : report.warnings) spdlog::warn("{}: {}", job.what, w);
    outcome.applied = true;
    outcome.manifest = report.manifest.str();
    outcome.tag = report.tag;
  } catch (const std::exception& e) {  // Error, and bad_alloc: this runs on a worker thread
    outcome.error = e.what();
  }
  return outcome;
}

}  // namespace outpost::agent
