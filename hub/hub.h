// `outpost hub`: the daemon at home that queues bundles per site and serves them to the sites'
// agents (docs/protocol.md), and `outpost hub enqueue`, which queues one.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "hub/hub_config.h"
#include "hub/hub_state.h"
#include "link/clock.h"

namespace outpost::hub {

// The daemon: its state open, its port bound, ready to Run.
class HubDaemon {
 public:
  // Opens the state (STATE_DIR/hub.db), the TLS files and the listening socket; with an
  // ephemeral port writes it to STATE_DIR/port. `config` and `clock` must outlive this.
  // Throws what the parts throw (IOError, NotFound, SecurityError, NetworkError).
  HubDaemon(const HubConfig& config, const link::Clock& clock);
  ~HubDaemon();

  uint16_t port() const;
  // Serves on two threads until Stop(); returns when every connection has ended.
  void Run();
  // Thread-safe, idempotent: stops accepting and ends every connection.
  void Stop();

 private:
  struct Parts;
  std::unique_ptr<Parts> parts_;
};

// Files the hub keeps open besides one connection per site: its database, the listening
// socket, bundle files being sent, logs.
inline constexpr size_t kSpareFiles = 64;

// Raises this process's soft RLIMIT_NOFILE to the hard limit (each agent holds a connection,
// and the default soft limit of 1024 is below a large fleet) and logs a warning when the limit
// is still below `sites` + kSpareFiles.
void RaiseOpenFileLimit(size_t sites);

// Raises the open-file limit (RaiseOpenFileLimit), then runs the daemon until SIGINT or
// SIGTERM (logged), then returns. The caller has set up
// logging (link::InitDaemonLogging).
void RunHub(const HubConfig& config, const link::Clock& clock);

struct EnqueueOptions {
  std::string site;
  std::filesystem::path bundle;
  int64_t priority = 0;
  std::optional<std::string> as_ref;  // REPO:TAG
};

// Queues a bundle for a site: checks it is a bundle (its head parses), stores it as
// STATE_DIR/bundles/<sha256 of the file>.bundle (once, however often it is queued) and adds a
// queued transfer. Returns the transfer id. Throws InvalidArgument for a site not in the config
// (naming it and the configured ones) or a malformed --as, NotFound, Corruption, IOError.
int64_t EnqueueBundle(const HubConfig& config, const EnqueueOptions& options, const link::Clock& clock);

// EnqueueBundle's checks and storage, without queueing: the row to add (the planner adds it
// with its own flags). Throws as EnqueueBundle does.
NewTransfer StoreBundle(const HubConfig& config, const EnqueueOptions& options);

// `outpost hub approve`: the held transfer `id` of `site` is queued. Returns false when the site
// has no held transfer `id`. Throws InvalidArgument for a site not in the config, IOError.
bool ApproveTransfer(const HubConfig& config, const std::string& site, int64_t id, const link::Clock& clock);

}  // namespace outpost::hub
