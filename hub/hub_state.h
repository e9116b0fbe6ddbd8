// The hub's durable state: STATE_DIR/hub.db (SQLite, docs/hub-state.md). Every queued transfer,
// its progress and outcome, and each site's contact and byte accounting live here and nowhere
// else, so a restart (or kill -9) loses nothing. `outpost hub enqueue` writes to the same
// database while the daemon runs; the daemon reads it afresh for every request.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "link/clock.h"
#include "link/sqlite.h"

namespace outpost::hub {

// queued -> sending (first byte of it sent) -> applied | failed (the site's result); held (over
// the subscription's max_bundle_bytes) -> queued by `outpost hub approve`; queued | held ->
// superseded (a newer plan for the same site and tag). Final states never change again.
enum class TransferState { kQueued, kHeld, kSending, kApplied, kFailed, kSuperseded };
// "queued", "held", "sending", "applied", "failed", "superseded" (as stored).
std::string_view StateName(TransferState state);

struct Transfer {
  int64_t id = 0;
  std::string site;
  std::string bundle_digest;      // "sha256:<hex>" of the whole bundle file
  std::filesystem::path path;     // STATE_DIR/bundles/<hex>.bundle
  uint64_t head_bytes = 0;
  uint64_t file_bytes = 0;
  int64_t priority = 0;
  std::optional<std::string> as_ref;  // --as REPO:TAG
  TransferState state = TransferState::kQueued;
  uint64_t bytes_sent = 0;        // head and payload bytes written to the site, resends included
  uint64_t bytes_acked = 0;       // the site's last payload acknowledgement, never decreasing
  uint64_t attempts = 0;          // head and payload responses begun
  std::string last_error;
  std::string manifest;
  std::string queued_at, finished_at;

  uint64_t payload_bytes() const { return file_bytes - head_bytes; }
  bool finished() const {
    return state == TransferState::kApplied || state == TransferState::kFailed || state == TransferState::kSuperseded;
  }
};

// A new queue row (the bundle file already stored under STATE_DIR/bundles).
struct NewTransfer {
  std::string site;
  std::string bundle_digest;
  std::filesystem::path path;
  uint64_t head_bytes = 0;
  uint64_t file_bytes = 0;
  int64_t priority = 0;
  std::optional<std::string> as_ref;
  // Set by the hub's planner: the row starts `held` instead of `queued`.
  bool held = false;
  // Set by the hub's planner: the source manifest digest planned for (site, as_ref). The row
  // supersedes the site's queued or held transfers of the same as_ref, and the plan is recorded
  // (Planned) in the same transaction.
  std::optional<std::string> planned_manifest = std::nullopt;
  // Added to the `counters` table (HubState::Counters) in the same transaction as the row, so a
  // count and the transfer it paid for are recorded together or not at all; e.g. the planning
  // diff's "delta_cache_hits" and "delta_cache_misses".
  std::map<std::string, uint64_t> counts = {};
};

// What a site's target holds (PUT /v1/inventory).
struct SiteInventory {
  std::map<std::string, std::string> images;  // "REPO:TAG" -> "sha256:<hex>" of its manifest
  std::set<std::string> blobs;                // "sha256:<hex>" of the blobs those manifests name
  // The image block-signature format version the agent sends when asked (its inventory's
  // `signatures`; docs/protocol.md); 0: an agent that sends none, so the hub never waits for one.
  uint32_t signatures = 0;
};

// A signature of a site's image the hub asked for, because its source no longer holds that
// image (docs/hub-state.md, "Signatures").
struct SignatureRow {
  std::string site;
  std::string manifest;      // "sha256:<hex>" of the site's manifest
  std::string ref;           // "REPO:TAG" the site holds it as (its inventory's name)
  std::string requested_at;  // UTC
  std::optional<std::filesystem::path> path;  // once received: STATE_DIR/signatures/SITE/<hex>.sig
  uint64_t bytes = 0;        // the received file's size
  bool gave_up = false;      // not received in time: the hub planned whole blobs instead
  uint64_t uses = 0;         // transfers diffed against it
};

// What a site reported for a transfer (POST /v1/transfers/ID/result).
struct TransferResult {
  bool applied = false;
  std::string manifest;  // applied: the manifest digest published
  std::string error;     // failed: the agent's one line
};

// A site's row: its last valid request and the bytes written to it.
struct SiteRow {
  std::string name;
  std::string last_contact;  // "" before its first request
  uint64_t bytes_sent = 0;   // all time
  uint64_t bytes_today = 0;  // this UTC day
};

// "2026-12-07T08:59:50Z".
std::string UtcText(link::WallTime t);
// "2026-12-07".
std::string UtcDay(link::WallTime t);

// Thread-safe (the Database's lock). Times come from `clock`, which must outlive this.
class HubState {
 public:
  // The schema: migrations[i] brings version i to i + 1 (version 4 today).
  static const std::vector<std::string>& Migrations();

  // Opens or creates STATE_DIR/hub.db (creating STATE_DIR) and migrates it. Throws IOError,
  // Unsupported (written by a newer outpost).
  HubState(const std::filesystem::path& state_dir, const link::Clock& clock);

  // Makes sure every configured site has a row.
  void AddSites(const std::vector<std::string>& names);
  // Adds a queued (or held) transfer; returns its id. With planned_manifest, supersedes and
  // records the plan as NewTransfer says, all in one transaction.
  int64_t Add(const NewTransfer& t);
  // A held transfer `id` of `site` becomes queued. Returns false (nothing changed) when there is
  // no such transfer of that site or it is not held.
  bool Approve(const std::string& site, int64_t id);
  // True when (site, ref, manifest) was planned and queued before (a restart plans it no more).
  bool Planned(const std::string& site, const std::string& ref, const std::string& manifest);

  // Replaces what `site` reported its target holds.
  void SetInventory(const std::string& site, const SiteInventory& inventory);
  // Every counter ever added (NewTransfer::counts), by name; a name never counted is absent.
  std::map<std::string, uint64_t> Counters();
  // The site's last report, nullopt before its first.
  std::optional<SiteInventory> Inventory(const std::string& site);

  // Records that the hub waits for `site`'s signature of its image `manifest` (held as `ref`).
  // Returns false (nothing changed) when it was asked for before.
  bool RequestSignature(const std::string& site, const std::string& ref, const std::string& manifest);
  // The request for (site, manifest), nullopt when there is none.
  std::optional<SignatureRow> Signature(const std::string& site, const std::string& manifest);
  // The site's requests neither received nor given up whose manifest its last inventory still
  // holds: what the work list asks it for.
  std::vector<SignatureRow> WantedSignatures(const std::string& site);
  // The signature arrived and is stored at `path` (`bytes` long). Returns false (nothing
  // changed) when there is no such request or it was received before.
  bool ReceiveSignature(const std::string& site, const std::string& manifest, const std::filesystem::path& path,
                        uint64_t bytes);
  // The hub stops waiting for the request (and plans whole blobs).
  void GiveUpSignature(const std::string& site, const std::string& manifest);
  // A transfer was diffed against the received signature: uses + 1.
  void UseSignature(const std::string& site, const std::string& manifest);
  // The transfer `id`, or nullopt.
  std::optional<Transfer> Find(int64_t id);
  // The site's queued and sending transfers: priority (higher first), then id.
  std::vector<Transfer> OpenTransfers(const std::string& site);

  // The site's held transfers (over max_bundle_bytes, waiting for `outpost hub approve`), by id.
  std::vector<Transfer> HeldTransfers(const std::string& site);
  // The site's finished transfers, the most recent first, at most `limit`.
  std::vector<Transfer> FinishedTransfers(const std::string& site, int limit);
  // The site's row (zeros for a site that has none yet).
  SiteRow Site(const std::string& site);
  // The site made a valid request now.
  void Touch(const std::string& site);
  // A head or payload response of transfer `id` begins: attempts + 1. Returns true when this is
  // the transfer's first (queued -> sending).
  bool BeginSending(int64_t id);
  // `bytes` more head or payload bytes of transfer `id` were written to its site: adds them to
  // the transfer, the site and the site's UTC day.
  void AddSent(int64_t id, const std::string& site, uint64_t bytes);
  // bytes_acked = max(bytes_acked, received).
  void Ack(int64_t id, uint64_t received);
  // Records the outcome unless the transfer already has one; returns true when it was recorded.
  bool Finish(int64_t id, const TransferResult& result);

  link::Database& database() { return db_; }

 private:
  const link::Clock& clock_;
  link::Database db_;
};

}  // namespace outpost::hub
