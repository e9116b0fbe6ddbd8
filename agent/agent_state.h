// The agent's durable state (STATE_DIR/agent.db, docs/agent-state.md): one row per hub transfer
// with how far its spool is durable and where it stands, and the record of what was published.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "link/clock.h"
#include "link/sqlite.h"

namespace outpost::agent {

// fetching -> received -> applied | failed (docs/agent-state.md); failed is reachable from
// fetching too (a head that fails its signature check).
enum class TransferState { kFetching, kReceived, kApplied, kFailed };
std::string_view StateName(TransferState s);

// One transfer as the hub's work list describes it.
struct WorkItem {
  int64_t id = 0;
  std::string bundle;       // "sha256:..." of the whole bundle file
  uint64_t head_bytes = 0;
  uint64_t file_bytes = 0;
  std::string as;           // "REPO:TAG" the operator queued it as, "" for none
  // How many versions of `as`'s repository the site keeps (the hub's subscription); nullopt:
  // the hub said nothing (a carried part, an older hub, no subscription). 0: never remove.
  std::optional<uint32_t> keep = std::nullopt;
};

// A version of a repository at this site: a transfer with an `as` that the agent applied and
// has not removed since.
struct PublishedVersion {
  int64_t transfer = 0;
  std::string as;        // "REPO:TAG"
  std::string manifest;  // the manifest published
  std::optional<uint32_t> keep = std::nullopt;
};

struct TransferRow {
  WorkItem item;
  uint64_t durable_bytes = 0;  // spool bytes (file offset) fdatasync'd
  TransferState state = TransferState::kFetching;
  bool reported = false;       // the hub confirmed the result (applied / failed)
  std::string manifest;        // applied: the manifest published
  std::string tag;             // applied: the tag written
  std::string error;           // failed: why
  int64_t updated_at = 0;      // unix seconds (the state's clock) of the row's last change
};

// Thread-safe (the Database's lock). Every method commits before it returns.
class AgentState {
 public:
  // Opens or creates `path` and migrates it (link::Database); times come from `clock` (unix
  // seconds), which must outlive the state. Throws IOError, Unsupported.
  AgentState(const std::filesystem::path& path, const link::Clock& clock);

  int schema_version() const { return db_.schema_version(); }

  std::optional<TransferRow> Find(int64_t id);
  // The row for `item`, inserted as fetching with nothing durable when there is none.
  TransferRow Begin(const WorkItem& item);
  // The spool of `id` is durable up to file offset `bytes`.
  void SetDurable(int64_t id, uint64_t bytes);
  // fetching -> received; a transfer already further (an import applied it meanwhile) stays.
  void SetReceived(int64_t id);
  // applied, and a row in `applied` recording what was published; one transaction.
  void SetApplied(int64_t id, const std::string& manifest, const std::string& tag);
  void SetFailed(int64_t id, const std::string& error);
  void SetReported(int64_t id);
  // Transfers applied or failed whose result the hub has not confirmed, oldest first.
  std::vector<TransferRow> Unreported();
  // Manifests published, oldest first (for tests and operators): "manifest tag" pairs.
  std::vector<std::pair<std::string, std::string>> Applied();
  // Versions published with an `as` and not removed since, in the order they were applied
  // (oldest first).
  std::vector<PublishedVersion> Published();
  // Records that the garbage collector removed `version` from the target (`how`: "removed",
  // "deleted", "gone" when the tag no longer named that manifest).
  void SetRemoved(const PublishedVersion& version, const std::string& how);
  // Transfers fetching or received, oldest first.
  std::vector<TransferRow> Pending();
  // Transfers still in progress, then the most recently changed; at most `limit`.
  std::vector<TransferRow> Recent(int limit);

  // The connection, for read-only queries (the metrics); hold its Lock().
  link::Database& database() { return db_; }

  // The migrations, version 1 first (exposed for the migration test).
  static const std::vector<std::string>& Migrations();

 private:
  void SetState(int64_t id, TransferState state, std::string_view column, const std::string& value);
  int64_t Now() const;
  const link::Clock& clock_;
  link::Database db_;
};

}  // namespace outpost::agent
