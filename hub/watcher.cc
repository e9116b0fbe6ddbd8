#include "hub/watcher.h"

#include <spdlog/spdlog.h>

#include "common/error.h"
#include "hub/hub.h"
#include "link/metrics_text.h"
#include "sync/diff.h"

namespace outpost::hub {
namespace {

std::unique_ptr<protocol::SigningKey> LoadSignKey(const HubConfig& config) {
  if (!config.sign_key) return nullptr;
  return std::make_unique<protocol::SigningKey>(protocol::SigningKey::LoadPrivate(*config.sign_key));
}

}  // namespace

Watcher::Watcher(const HubConfig& config, HubState& state, const link::Clock& clock)
    : config_(config), state_(state), clock_(clock), key_(LoadSignKey(config)),
      stores_(registry::AccessOptions{}),
      delta_cache_(config.state_dir / "delta-cache") {}

Watcher::~Watcher() {
  Stop();
  if (thread_.joinable()) thread_.join();
}

void Watcher::Start() {
  thread_ = std::thread([this] { Run(); });
}

void Watcher::Wake() {
  std::lock_guard lock(mu_);
  woken_ = true;
  wake_.notify_all();
}

void Watcher::Stop() {
  std::lock_guard lock(mu_);
  stopping_ = true;
  wake_.notify_all();
}

void Watcher::Run() {
  const std::chrono::milliseconds interval = clock_.RealDuration(config_.source->poll_interval);
  std::unique_lock lock(mu_);
  while (!stopping_) {
    woken_ = false;
    lock.unlock();
    try {
      PollOnce();
    } catch (const std::exception& e) {  // Error, and anything the stores let through
      link::ProcessErrors().Add("source_unreadable");
      spdlog::warn("source {}: cannot plan: {}; trying again in {} s", config_.source->str(), e.what(),
                   config_.source->poll_interval.count() / 1000);
    }
    lock.lock();
    wake_.wait_for(lock, interval, [this] { return stopping_ || woken_; });
  }
}

std::vector<int64_t> Watcher::PollOnce() {
  std::map<std::string, SiteInventory> inventories;
  for (const SiteConfig& site : config_.sites) {
    if (site.subscriptions.empty()) continue;
    if (std::optional<SiteInventory> inventory = state_.Inventory(site.name)) inventories.emplace(site.name, *inventory);
  }
  std::vector<int64_t> queued;
  if (inventories.empty()) return queued;  // nothing to plan against yet
  SourceImages source = ListSource(config_, stores_);
  auto planned = [this](const std::string& site, const std::string& ref, const std::string& manifest) {
    return state_.Planned(site, ref, manifest);
  };
  for (const PlannedImage& image : PlanImages(config_, source, inventories, planned)) {
    {
      std::lock_guard lock(mu_);
      if (stopping_) break;
    }
    try {
      queued.push_back(Queue(image));
    } catch (const Error& e) {
      link::ProcessErrors().Add("plan_failed");
      spdlog::error("site {}: cannot plan {} ({}): {}; trying again next pass", image.site, image.ref, image.manifest, e.what());
    }
  }
  return queued;
}

int64_t Watcher::Queue(const PlannedImage& image) {
  std::filesystem::path work = config_.state_dir / "planning";
  std::filesystem::create_directories(work);
  sync::DiffOptions o = PlannedDiffOptions(config_, image, stores_, work,
                                           work / (image.site + "-" + Digest::Parse(image.manifest).hex() + ".bundle"));
  o.sign_key = key_.get();
  o.delta_cache = &delta_cache_;
  spdlog::info("site {}: planning {} ({}) against {} base(s) it holds", image.site, image.ref, image.manifest, image.bases.size());
  sync::DiffReport report = sync::Diff(o);
  NewTransfer t = StoreBundle(config_, {image.site, o.output, image.subscription->priority, image.ref});
  std::filesystem::remove(o.output);
  t.held = t.file_bytes > image.subscription->max_bundle_bytes;
  t.planned_manifest = image.manifest;
  int64_t id = state_.Add(t);
  spdlog::info("site {}: transfer {} (bundle {}) {}: {} as {}; {}; delta cache {} hit(s), {} miss(es)", image.site, id,
               t.bundle_digest, t.held ? "held for `outpost hub approve` (over max_bundle_bytes)" : "queued", image.manifest,
               image.ref, sync::SummaryLine(report.bundle_bytes, report.registry_bytes), report.delta_cache_hits,
               report.delta_cache_misses);
  return id;
}

}  // namespace outpost::hub
