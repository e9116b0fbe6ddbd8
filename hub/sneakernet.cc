#include "hub/sneakernet.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <memory>

#include "common/digest.h"
#include "common/error.h"
#include "common/file.h"
#include "hub/hub_state.h"
#include "hub/watcher.h"
#include "link/sealed_file.h"
#include "protocol/part_file.h"
#include "protocol/signing.h"
#include "protocol/site_report.h"

namespace outpost::hub {
namespace {

const SiteConfig& RequireSite(const HubConfig& config, const std::string& site) {
  const SiteConfig* found = config.FindSite(site);
  if (found == nullptr) {
    throw InvalidArgument("site `", site, "` is not in ", config.file.string(), " (configured: ", config.SiteNames(), ")");
  }
  return *found;
}

bool Wanted(const std::vector<std::string>& images, const std::string& ref) {
  return images.empty() || std::find(images.begin(), images.end(), ref) != images.end();
}

// `config` with only `site`, each subscription narrowed to the `images` it matches (all when
// none are given): what the planner may plan for this export.
HubConfig OnlySite(const HubConfig& config, const SiteConfig& site, const std::vector<std::string>& images) {
  HubConfig one = config;
  one.sites = {site};
  if (images.empty()) return one;
  for (Subscription& sub : one.sites[0].subscriptions) {
    std::vector<std::string> narrowed;
    for (const std::string& ref : images) {
      if (sub.Matches(ref)) narrowed.push_back(ref);
    }
    sub.images = std::move(narrowed);
  }
  return one;
}

std::unique_ptr<protocol::SigningKey> LoadSignKey(const HubConfig& config) {
  if (!config.sign_key) return nullptr;
  return std::make_unique<protocol::SigningKey>(protocol::SigningKey::LoadPrivate(*config.sign_key));
}

}  // namespace

ExportResult ExportForSite(const HubConfig& config, const ExportOptions& options, const link::Clock& clock) {
  const SiteConfig& site = RequireSite(config, options.site);
  if (options.max_part_bytes < protocol::kMinPartBytes) {
    throw InvalidArgument("--max-part-size must be at least ", std::to_string(protocol::kMinPartBytes), " bytes");
  }
  ExportResult result;
  HubState state(config.state_dir, clock);
  state.AddSites({site.name});
  if (config.source && !site.subscriptions.empty() && state.Inventory(site.name)) {
    HubConfig one = OnlySite(config, site, options.images);
    Watcher planner(one, state, clock);
    result.planned = planner.PollOnce();
  }
  std::unique_ptr<protocol::SigningKey> key = LoadSignKey(config);
  for (const Transfer& t : state.OpenTransfers(site.name)) {
    const std::string as = t.as_ref.value_or("");
    if (!Wanted(options.images, as)) continue;
    protocol::Carriage carriage{Digest::Parse(t.bundle_digest), t.file_bytes, t.head_bytes, t.id, site.name, as};
    ExportedTransfer out{t.id, as, t.bundle_digest, t.file_bytes, {}};
    out.parts = protocol::WriteParts(t.path, carriage, options.max_part_bytes, options.out_dir, key.get());
    result.transfers.push_back(std::move(out));
  }
  return result;
}

ImportedReport ImportSiteReport(const HubConfig& config, const std::filesystem::path& file, const link::Clock& clock) {
  const std::string what = "report " + file.string();
  const std::string bytes = ReadFileToString(file, link::kMaxSealedBytes + 1);
  const link::Unsealed sealed = link::Unseal(bytes, config.tls.ca, what);
  if (config.FindSite(sealed.site) == nullptr) {
    throw SecurityError(what, " is sealed by `", sealed.site, "`, which is not a site in ", config.file.string(),
                        " (configured: ", config.SiteNames(), ")");
  }
  const protocol::SiteReport report = protocol::DecodeSiteReport(sealed.payload, what);
  if (report.site != sealed.site) {
    throw SecurityError(what, " says it is site `", report.site, "`'s but is sealed by site `", sealed.site, "`");
  }
  HubState state(config.state_dir, clock);
  ImportedReport out{sealed.site, report.images.size(), report.blobs.size(), {}};
  state.SetInventory(sealed.site, SiteInventory{report.images, report.blobs});
  for (const protocol::ReportedTransfer& t : report.transfers) {
    std::optional<Transfer> row = state.Find(t.id);
    if (!row || row->site != sealed.site || row->bundle_digest != t.bundle) continue;  // not this site's transfer
    if (state.Finish(t.id, TransferResult{t.applied, t.manifest, t.error})) out.finished.push_back(t.id);
  }
  spdlog::info("site {}: report imported from {}: inventory of {} images, {} blobs; {} results recorded", sealed.site,
               file.string(), out.images, out.blobs, out.finished.size());
  return out;
}

}  // namespace outpost::hub
