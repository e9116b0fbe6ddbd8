#include "hub/plan_report.h"

#include <fmt/format.h>

#include <algorithm>

#include <nlohmann/json.hpp>

#include "common/error.h"
#include "hub/hub_state.h"
#include "hub/pacing.h"
#include "hub/planner.h"
#include "link/schedule.h"
#include "registry/store_factory.h"

namespace outpost::hub {
namespace {

using nlohmann::json;

ImagePlan DiffOne(const HubConfig& config, const PlannedImage& image, registry::RegistryStoreFactory& stores,
                  const std::filesystem::path& scratch, uint64_t rate) {
  ImagePlan plan;
  plan.ref = image.ref;
  plan.manifest = image.manifest;
  plan.bases = image.bases;
  sync::DiffOptions o = PlannedDiffOptions(config, image, stores, scratch, scratch / "plan.bundle");
  try {
    plan.report = sync::Diff(o);
    plan.link_bytes = LinkBytes(plan.report.bundle_bytes, rate);
  } catch (const Error& e) {
    plan.error = e.what();
  }
  std::error_code ignored;
  std::filesystem::remove(o.output, ignored);
  return plan;
}

// "12.5 s at 32000 B/s", or "" without a rate cap.
std::string TimeAt(uint64_t bytes, uint64_t rate) {
  if (rate == link::kUnlimitedRate || rate == 0) return "";
  return fmt::format("; {:.1f} s at {} B/s", static_cast<double>(bytes) / static_cast<double>(rate), rate);
}

}  // namespace

std::vector<SitePlan> PlanDryRun(const HubConfig& config, const std::optional<std::string>& site, const link::Clock& clock) {
  if (site && config.FindSite(*site) == nullptr) {
    throw InvalidArgument("site `", *site, "` is not in ", config.file.string(), " (configured: ", config.SiteNames(), ")");
  }
  if (!config.source) throw InvalidArgument(config.file.string(), " has no `source`: the hub plans nothing by itself");
  HubState state(config.state_dir, clock);
  std::vector<SitePlan> out;
  std::map<std::string, SiteInventory> inventories;
  for (const SiteConfig& s : config.sites) {
    if (site && s.name != *site) continue;
    SitePlan plan{s.name, s.rate, false, {}};
    if (std::optional<SiteInventory> inventory = state.Inventory(s.name)) {
      plan.has_inventory = true;
      inventories.emplace(s.name, *inventory);
    }
    out.push_back(std::move(plan));
  }
  registry::RegistryStoreFactory stores{registry::AccessOptions{}};
  SourceImages source = ListSource(config, stores);
  auto anew = [](const std::string&, const std::string&, const std::string&) { return false; };
  std::filesystem::path scratch = config.state_dir / "planning" / "dry-run";
  std::filesystem::create_directories(scratch);
  for (PlannedImage image : PlanImages(config, source, inventories, anew)) {
    std::optional<SignatureRow> sig;
    if (!image.signature_manifest.empty()) sig = state.Signature(image.site, image.signature_manifest);
    if (sig && sig->path && std::filesystem::exists(*sig->path)) image.signature = *sig->path;  // as the watcher diffs
    for (SitePlan& plan : out) {
      if (plan.site == image.site) plan.images.push_back(DiffOne(config, image, stores, scratch, std::min(plan.rate, config.rate)));
    }
  }
  std::error_code ignored;
  std::filesystem::remove_all(scratch, ignored);
  return out;
}

std::string PlanText(const std::vector<SitePlan>& plans) {
  std::string out;
  for (const SitePlan& site : plans) {
    out += "site " + site.site + ":";
    if (!site.has_inventory) out += " no inventory reported yet (nothing is planned for it)";
    if (site.has_inventory && site.images.empty()) out += " up to date";
    out += "\n";
    for (const ImagePlan& image : site.images) {
      out += fmt::format("  {} ({}) against {} base(s)\n", image.ref, image.manifest, image.bases.size());
      if (!image.error.empty()) {
        out += "    cannot diff: " + image.error + "\n";
        continue;
      }
      for (const sync::LayerReport& layer : image.report.layers) {
        out += fmt::format("    {} {:>8} {:>12} of {:>12} bytes{}\n", layer.digest.str().substr(0, 19),
                           protocol::MethodName(layer.method), layer.payload_bytes, layer.blob_bytes,
                           layer.note.empty() ? "" : " (" + layer.note + ")");
      }
      out += "    " + sync::SummaryLine(image.report.bundle_bytes, image.report.registry_bytes) +
             fmt::format("; {} bytes on the link", image.link_bytes) + TimeAt(image.link_bytes, site.rate) + "\n";
    }
  }
  return out;
}

std::string PlanJson(const std::vector<SitePlan>& plans) {
  json sites = json::array();
  for (const SitePlan& site : plans) {
    json images = json::array();
    for (const ImagePlan& image : site.images) {
      json layers = json::array();
      for (const sync::LayerReport& layer : image.report.layers) {
        layers.push_back({{"digest", layer.digest.str()},
                          {"method", protocol::MethodName(layer.method)},
                          {"blob_bytes", layer.blob_bytes},
                          {"payload_bytes", layer.payload_bytes},
                          {"note", layer.note}});
      }
      bool timed = site.rate != link::kUnlimitedRate && site.rate != 0;
      images.push_back(
          {{"ref", image.ref},
           {"manifest", image.manifest},
           {"bases", image.bases},
           {"error", image.error.empty() ? json(nullptr) : json(image.error)},
           {"bundle_bytes", image.report.bundle_bytes},
           {"registry_bytes", image.report.registry_bytes},
           {"link_bytes", image.link_bytes},
           {"seconds", timed ? json(static_cast<double>(image.link_bytes) / static_cast<double>(site.rate)) : json(nullptr)},
           {"layers", layers}});
    }
    sites.push_back({{"site", site.site},
                     {"rate", site.rate == link::kUnlimitedRate ? json(nullptr) : json(site.rate)},
                     {"inventory", site.has_inventory},
                     {"images", images}});
  }
  return json{{"sites", sites}}.dump(2) + "\n";
}

}  // namespace outpost::hub
