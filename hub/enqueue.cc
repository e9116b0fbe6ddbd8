// `outpost hub enqueue`: stores a bundle under the hub's state and queues it for a site;
// `outpost hub approve`: releases a held one.
#include "common/digest.h"
#include "common/error.h"
#include "common/file.h"
#include "hub/hub.h"
#include "hub/hub_state.h"
#include "protocol/bundle_file.h"

namespace outpost::hub {
namespace {

// Copies `source` to `target` atomically unless `target` exists already (it then holds the
// same bytes: its name is their digest).
void StoreOnce(const std::filesystem::path& source, const std::filesystem::path& target) {
  std::error_code ec;
  if (std::filesystem::exists(target, ec)) return;
  std::filesystem::create_directories(target.parent_path(), ec);
  if (ec) throw IOError("cannot create ", target.parent_path().string(), ": ", ec.message());
  FileReader in(source);
  AtomicFile out(target);
  Copy(in, out);
  out.Commit();
}

void CheckAsRef(const std::string& ref) {
  size_t colon = ref.rfind(':');
  size_t slash = ref.rfind('/');
  if (colon == std::string::npos || colon == 0 || colon + 1 == ref.size() || (slash != std::string::npos && slash > colon)) {
    throw InvalidArgument("--as `", ref, "` is not REPO:TAG (e.g. test:2.0.0)");
  }
}

}  // namespace

NewTransfer StoreBundle(const HubConfig& config, const EnqueueOptions& options) {
  if (config.FindSite(options.site) == nullptr) {
    throw InvalidArgument("site `", options.site, "` is not in ", config.file.string(), " (configured: ", config.SiteNames(), ")");
  }
  if (options.as_ref) CheckAsRef(*options.as_ref);
  std::string what = "bundle " + options.bundle.string();
  RandomAccessFile file(options.bundle);
  protocol::BundleHead head = protocol::ReadHead(file, what);
  if (file.size() != head.file_bytes()) {
    throw Corruption(what, " is ", std::to_string(file.size()), " bytes, its head says ", std::to_string(head.file_bytes()));
  }
  Digest digest = HashAll(file);
  std::filesystem::path stored = config.bundles() / (digest.hex() + ".bundle");
  StoreOnce(options.bundle, stored);
  return NewTransfer{options.site, digest.str(), stored, head.head_bytes(), head.file_bytes(), options.priority, options.as_ref};
}

int64_t EnqueueBundle(const HubConfig& config, const EnqueueOptions& options, const link::Clock& clock) {
  NewTransfer t = StoreBundle(config, options);
  return HubState(config.state_dir, clock).Add(t);
}

bool ApproveTransfer(const HubConfig& config, const std::string& site, int64_t id, const link::Clock& clock) {
  if (config.FindSite(site) == nullptr) {
    throw InvalidArgument("site `", site, "` is not in ", config.file.string(), " (configured: ", config.SiteNames(), ")");
  }
  return HubState(config.state_dir, clock).Approve(site, id);
}

}  // namespace outpost::hub
