#include "hub/watcher.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "common/error.h"
#include "hub/hub.h"
#include "link/metrics_text.h"
#include "sync/diff.h"
#include "sync/image_signature.h"

namespace outpost::hub {
namespace {

std::unique_ptr<protocol::SigningKey> LoadSignKey(const HubConfig& config) {
  if (!config.sign_key) return nullptr;
  return std::make_unique<protocol::SigningKey>(protocol::SigningKey::LoadPrivate(*config.sign_key));
}

// True when `listed` shows the push "REPO:TAG[@DIGEST]" or "REPO[@DIGEST]" (by digest only:
// some tag of REPO at DIGEST; no digest: the tag, or the repository, at all).
bool Lists(const SourceImages& listed, const std::string& push) {
  const size_t at = push.find('@');
  const std::string name = push.substr(0, at), digest = at == std::string::npos ? "" : push.substr(at + 1);
  if (name.find(':') != std::string::npos) {
    auto image = listed.find(name);
    return image != listed.end() && (digest.empty() || image->second == digest);
  }
  return std::any_of(listed.begin(), listed.end(), [&](const auto& image) {
    return RepoOf(image.first) == name && (digest.empty() || image.second == digest);
  });
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

void Watcher::Wake(const std::vector<std::string>& pushed) {
  std::lock_guard lock(mu_);
  const auto give_up = std::chrono::steady_clock::now() + clock_.RealDuration(kPushSettle);
  for (const std::string& push : pushed) awaited_[push] = give_up;
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
    std::optional<SourceImages> listed;
    try {
      Pass(listed);
    } catch (const std::exception& e) {  // Error, and anything the stores let through
      link::ProcessErrors().Add("source_unreadable");
      spdlog::warn("source {}: cannot plan: {}; trying again in {} s", config_.source->str(), e.what(),
                   config_.source->poll_interval.count() / 1000);
    }
    lock.lock();
    wake_.wait_for(lock, Settle(listed, interval), [this] { return stopping_ || woken_; });
  }
}

std::chrono::milliseconds Watcher::Settle(const std::optional<SourceImages>& listed, std::chrono::milliseconds interval) {
  const auto now = std::chrono::steady_clock::now();
  std::erase_if(awaited_, [&](const auto& entry) {
    if (listed && Lists(*listed, entry.first)) return true;
    if (now < entry.second) return false;
    spdlog::warn("registry notification: {} is still not listed by the source after {} s; the next poll plans what it lists then",
                 entry.first, kPushSettle.count());
    return true;
  });
  if (awaited_.empty()) return interval;
  return std::min(interval, clock_.RealDuration(std::chrono::seconds(1)));
}

std::vector<int64_t> Watcher::PollOnce() {
  std::optional<SourceImages> listed;
  return Pass(listed);
}

std::vector<int64_t> Watcher::Pass(std::optional<SourceImages>& listed) {
  std::map<std::string, SiteInventory> inventories;
  for (const SiteConfig& site : config_.sites) {
    if (site.subscriptions.empty()) continue;
    if (std::optional<SiteInventory> inventory = state_.Inventory(site.name)) inventories.emplace(site.name, *inventory);
  }
  std::vector<int64_t> queued;
  if (inventories.empty()) return queued;  // nothing to plan against yet
  SourceImages source = ListSource(config_, stores_);
  listed = source;
  auto planned = [this](const std::string& site, const std::string& ref, const std::string& manifest) {
    return state_.Planned(site, ref, manifest);
  };
  for (const PlannedImage& image : PlanImages(config_, source, inventories, planned)) {
    {
      std::lock_guard lock(mu_);
      if (stopping_) break;
    }
    try {
      if (std::optional<int64_t> id = Queue(image, inventories.at(image.site))) queued.push_back(*id);
    } catch (const Error& e) {
      link::ProcessErrors().Add("plan_failed");
      spdlog::error("site {}: cannot plan {} ({}): {}; trying again next pass", image.site, image.ref, image.manifest, e.what());
    }
  }
  return queued;
}

bool Watcher::AwaitSignature(PlannedImage& image, const SiteInventory& inventory) {
  std::optional<SignatureRow> sig = state_.Signature(image.site, image.signature_manifest);
  const std::string base = image.signature_ref + " (" + image.signature_manifest + ")";
  if (sig && sig->path && std::filesystem::exists(*sig->path)) {
    image.signature = *sig->path;
    return true;
  }
  if (sig && sig->path) {
    spdlog::warn("site {}: its signature of {} is gone from {}; planning {} with whole blobs", image.site, base,
                 sig->path->string(), image.ref);
    return true;
  }
  if (sig && sig->gave_up) return true;
  if (inventory.signatures != sync::kImageSignatureVersion) {
    spdlog::info("site {}: the source no longer holds {}, its base of {}, and its agent sends no signatures "
                 "(version {}); planning with whole blobs", image.site, base, image.ref, inventory.signatures);
    return true;
  }
  if (!sig) {
    state_.RequestSignature(image.site, image.signature_ref, image.signature_manifest);
    spdlog::info("site {}: the source no longer holds {}, its base of {}: asked the site for its signature; {} waits for it "
                 "(at most {} min)", image.site, base, image.ref, image.ref, kSignatureWait.count());
    return false;
  }
  if (clock_.Now() - link::ParseUtcTime(sig->requested_at) < kSignatureWait) return false;
  state_.GiveUpSignature(image.site, image.signature_manifest);
  link::ProcessErrors().Add("signature_overdue");
  spdlog::warn("site {}: no signature of {} arrived within {} min of asking; planning {} with whole blobs", image.site,
               base, kSignatureWait.count(), image.ref);
  return true;
}

std::optional<int64_t> Watcher::Queue(PlannedImage image, const SiteInventory& inventory) {
  if (!image.signature_manifest.empty() && !AwaitSignature(image, inventory)) return std::nullopt;
  std::filesystem::path work = config_.state_dir / "planning";
  std::filesystem::create_directories(work);
  sync::DiffOptions o = PlannedDiffOptions(config_, image, stores_, work,
                                           work / (image.site + "-" + Digest::Parse(image.manifest).hex() + ".bundle"));
  o.sign_key = key_.get();
  o.delta_cache = &delta_cache_;
  if (image.signature.empty()) {
    spdlog::info("site {}: planning {} ({}) against {} base(s) it holds", image.site, image.ref, image.manifest, image.bases.size());
  } else {
    spdlog::info("site {}: planning {} ({}) against the site's signature of {} ({})", image.site, image.ref, image.manifest,
                 image.signature_ref, image.signature_manifest);
  }
  sync::DiffReport report = sync::Diff(o);
  NewTransfer t = StoreBundle(config_, {image.site, o.output, image.subscription->priority, image.ref});
  std::filesystem::remove(o.output);
  t.held = t.file_bytes > image.subscription->max_bundle_bytes;
  t.planned_manifest = image.manifest;
  t.counts = {{"delta_cache_hits", report.delta_cache_hits}, {"delta_cache_misses", report.delta_cache_misses}};
  int64_t id = state_.Add(t);
  if (!image.signature.empty()) state_.UseSignature(image.site, image.signature_manifest);
  spdlog::info("site {}: transfer {} (bundle {}) {}: {} as {}{}; {}; delta cache {} hit(s), {} miss(es)", image.site, id,
               t.bundle_digest, t.held ? "held for `outpost hub approve` (over max_bundle_bytes)" : "queued", image.manifest,
               image.ref, image.signature.empty() ? "" : " (signature-based delta)",
               sync::SummaryLine(report.bundle_bytes, report.registry_bytes), report.delta_cache_hits,
               report.delta_cache_misses);
  return id;
}

}  // namespace outpost::hub
