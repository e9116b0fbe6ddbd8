// The hub's own queue filler: every poll_interval (and whenever a site reports a new inventory
// or sends a signature) it lists the source, plans (planner.h), diffs each planned image on its
// own thread (never on the serving io_context) and queues the bundle as `hub enqueue` does, with
// `as` = REPO:TAG. An image for which the site holds only a base the source no longer has waits
// for the site's signature of that base (docs/hub-state.md, "Signatures").
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "hub/hub_config.h"
#include "hub/hub_state.h"
#include "hub/planner.h"
#include "link/clock.h"
#include "protocol/signing.h"
#include "registry/store_factory.h"
#include "sync/delta_cache.h"

namespace outpost::hub {

class Watcher {
 public:
  // `config` (which must have a source), `state` and `clock` must outlive this. Loads the
  // sign_key; throws what loading it throws.
  Watcher(const HubConfig& config, HubState& state, const link::Clock& clock);
  // Stops and joins the thread.
  ~Watcher();

  // Starts the polling thread (a first pass at once).
  void Start();
  // Thread-safe: the next pass starts now rather than after poll_interval. `pushed` are a
  // registry notification's pushes ("REPO:TAG[@DIGEST]", notifications.h). A registry may
  // notify before it lists the tag (distribution tags a manifest after announcing it), so until
  // the source lists each push (its tag at its digest) the watcher passes again every second,
  // for at most kPushSettle.
  void Wake(const std::vector<std::string>& pushed = {});
  // Thread-safe, idempotent: no pass starts after this; a diff under way finishes first.
  void Stop();

  // One pass on the caller's thread: lists the source, plans, diffs and queues. Returns the
  // ids of the transfers it queued. An image whose diff fails is logged and planned again next
  // pass. Throws what listing the source throws.
  std::vector<int64_t> PollOnce();

  // How long a notified push is waited for in the source's listing.
  static constexpr std::chrono::seconds kPushSettle{30};
  // How long (by the hub's clock) an image waits for the site's signature of its base before it
  // is planned with whole blobs: a signature of a few hundred MB of layers takes the agent
  // seconds to compute and well under a minute to send at 256 kbit/s.
  static constexpr std::chrono::minutes kSignatureWait{10};

 private:
  void Run();
  // PollOnce, also handing back the source's listing when the pass got that far.
  std::vector<int64_t> Pass(std::optional<SourceImages>& listed);
  // Under mu_, after a pass that listed `listed` (nullopt: it did not): forgets the awaited
  // pushes the listing shows and those past their deadline; returns the wait before the next
  // pass (a second while some push is still awaited, else `interval`).
  std::chrono::milliseconds Settle(const std::optional<SourceImages>& listed, std::chrono::milliseconds interval);
  // Diffs `image` into a bundle and queues it (held when over its max_bundle_bytes); nullopt
  // while it waits for the site's signature (AwaitSignature).
  std::optional<int64_t> Queue(PlannedImage image, const SiteInventory& inventory);
  // For an image with a signature base (PlannedImage::signature_ref): false while it waits for
  // the site's signature (asking for it the first time); true to diff now, against the
  // signature (image.signature set) or with whole blobs (the site's agent sends none, or the
  // signature is overdue).
  bool AwaitSignature(PlannedImage& image, const SiteInventory& inventory);

  const HubConfig& config_;
  HubState& state_;
  const link::Clock& clock_;
  std::unique_ptr<protocol::SigningKey> key_;
  registry::RegistryStoreFactory stores_;
  sync::DirDeltaCache delta_cache_;  // STATE_DIR/delta-cache: one encode per delta for the fleet
  std::mutex mu_;
  std::condition_variable wake_;
  bool woken_ = false;
  std::map<std::string, std::chrono::steady_clock::time_point> awaited_;  // push -> give-up time
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace outpost::hub
