#include "hub/hub_state.h"

#include <ctime>

#include "common/error.h"

namespace outpost::hub {
namespace {

constexpr std::string_view kColumns =
    "id, site, bundle_digest, path, head_bytes, file_bytes, priority, as_ref, state, bytes_sent, bytes_acked, "
    "attempts, last_error, manifest, queued_at, finished_at";

std::filesystem::path DatabasePath(const std::filesystem::path& state_dir) {
  std::error_code ec;
  std::filesystem::create_directories(state_dir, ec);
  if (ec) throw IOError("cannot create the hub's state_dir ", state_dir.string(), ": ", ec.message());
  return state_dir / "hub.db";
}

TransferState ParseState(const std::string& text) {
  if (text == "queued") return TransferState::kQueued;
  if (text == "held") return TransferState::kHeld;
  if (text == "superseded") return TransferState::kSuperseded;
  if (text == "sending") return TransferState::kSending;
  if (text == "applied") return TransferState::kApplied;
  if (text == "failed") return TransferState::kFailed;
  throw Corruption("hub state: unknown transfer state `", text, "`");
}

uint64_t U64(const link::Statement& s, int column) { return static_cast<uint64_t>(s.Int(column)); }

Transfer ReadTransfer(const link::Statement& s) {
  Transfer t;
  t.id = s.Int(0);
  t.site = s.Text(1);
  t.bundle_digest = s.Text(2);
  t.path = s.Text(3);
  t.head_bytes = U64(s, 4);
  t.file_bytes = U64(s, 5);
  t.priority = s.Int(6);
  if (!s.IsNull(7)) t.as_ref = s.Text(7);
  t.state = ParseState(s.Text(8));
  t.bytes_sent = U64(s, 9);
  t.bytes_acked = U64(s, 10);
  t.attempts = U64(s, 11);
  t.last_error = s.Text(12);
  t.manifest = s.Text(13);
  t.queued_at = s.Text(14);
  t.finished_at = s.Text(15);
  return t;
}


int64_t I64(uint64_t v) { return static_cast<int64_t>(v); }

constexpr std::string_view kSignatureColumns = "site, manifest, ref, requested_at, path, bytes, gave_up_at, uses";

SignatureRow ReadSignature(const link::Statement& s) {
  SignatureRow row;
  row.site = s.Text(0);
  row.manifest = s.Text(1);
  row.ref = s.Text(2);
  row.requested_at = s.Text(3);
  if (!s.IsNull(4)) row.path = s.Text(4);
  row.bytes = U64(s, 5);
  row.gave_up = !s.IsNull(6);
  row.uses = U64(s, 7);
  return row;
}

}  // namespace

std::string_view StateName(TransferState state) {
  switch (state) {
    case TransferState::kQueued: return "queued";
    case TransferState::kHeld: return "held";
    case TransferState::kSuperseded: return "superseded";
    case TransferState::kSending: return "sending";
    case TransferState::kApplied: return "applied";
    case TransferState::kFailed: return "failed";
  }
  return "?";
}

std::string UtcText(link::WallTime t) { return link::FormatUtcTime(t, "%Y-%m-%dT%H:%M:%SZ"); }
std::string UtcDay(link::WallTime t) { return link::FormatUtcTime(t, "%Y-%m-%d"); }

const std::vector<std::string>& HubState::Migrations() {
  static const std::vector<std::string> kMigrations = {
      // Version 1 (docs/hub-state.md).
      "CREATE TABLE sites ("
      "  name TEXT PRIMARY KEY,"
      "  last_contact TEXT,"
      "  bytes_sent INTEGER NOT NULL DEFAULT 0);"
      "CREATE TABLE transfers ("
      "  id INTEGER PRIMARY KEY,"
      "  site TEXT NOT NULL,"
      "  bundle_digest TEXT NOT NULL,"
      "  path TEXT NOT NULL,"
      "  head_bytes INTEGER NOT NULL,"
      "  file_bytes INTEGER NOT NULL,"
      "  priority INTEGER NOT NULL DEFAULT 0,"
      "  as_ref TEXT,"
      "  state TEXT NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'sending', 'applied', 'failed')),"
      "  bytes_sent INTEGER NOT NULL DEFAULT 0,"
      "  bytes_acked INTEGER NOT NULL DEFAULT 0,"
      "  attempts INTEGER NOT NULL DEFAULT 0,"
      "  last_error TEXT,"
      "  manifest TEXT,"
      "  queued_at TEXT NOT NULL,"
      "  finished_at TEXT);"
      "CREATE INDEX transfers_by_site ON transfers (site, state, priority DESC, id);"
      "CREATE TABLE site_bytes ("
      "  site TEXT NOT NULL,"
      "  day TEXT NOT NULL,"
      "  bytes INTEGER NOT NULL DEFAULT 0,"
      "  PRIMARY KEY (site, day));",
      // Version 2: inventories, plans, held and superseded transfers (the CHECK constraint of
      // `state` changes, so the table is rebuilt with its rows and index).
      "ALTER TABLE sites ADD COLUMN inventory_at TEXT;"
      "CREATE TABLE site_images ("
      "  site TEXT NOT NULL,"
      "  ref TEXT NOT NULL,"
      "  manifest TEXT NOT NULL,"
      "  PRIMARY KEY (site, ref));"
      "CREATE TABLE site_blobs ("
      "  site TEXT NOT NULL,"
      "  digest TEXT NOT NULL,"
      "  PRIMARY KEY (site, digest));"
      "CREATE TABLE plans ("
      "  site TEXT NOT NULL,"
      "  ref TEXT NOT NULL,"
      "  manifest TEXT NOT NULL,"
      "  transfer INTEGER NOT NULL,"
      "  planned_at TEXT NOT NULL,"
      "  PRIMARY KEY (site, ref, manifest));"
      "CREATE TABLE transfers_v2 ("
      "  id INTEGER PRIMARY KEY,"
      "  site TEXT NOT NULL,"
      "  bundle_digest TEXT NOT NULL,"
      "  path TEXT NOT NULL,"
      "  head_bytes INTEGER NOT NULL,"
      "  file_bytes INTEGER NOT NULL,"
      "  priority INTEGER NOT NULL DEFAULT 0,"
      "  as_ref TEXT,"
      "  state TEXT NOT NULL DEFAULT 'queued'"
      "    CHECK (state IN ('queued', 'held', 'sending', 'applied', 'failed', 'superseded')),"
      "  bytes_sent INTEGER NOT NULL DEFAULT 0,"
      "  bytes_acked INTEGER NOT NULL DEFAULT 0,"
      "  attempts INTEGER NOT NULL DEFAULT 0,"
      "  last_error TEXT,"
      "  manifest TEXT,"
      "  queued_at TEXT NOT NULL,"
      "  finished_at TEXT);"
      "INSERT INTO transfers_v2 SELECT " + std::string(kColumns) + " FROM transfers;"
      "DROP TABLE transfers;"
      "ALTER TABLE transfers_v2 RENAME TO transfers;"
      "CREATE INDEX transfers_by_site ON transfers (site, state, priority DESC, id);",
      // Version 3: counters that outlive restarts (the delta cache's hits and misses).
      "CREATE TABLE counters ("
      "  name TEXT PRIMARY KEY,"
      "  value INTEGER NOT NULL DEFAULT 0);",
      // Version 4: signatures of site images the source no longer holds.
      "ALTER TABLE sites ADD COLUMN signatures INTEGER NOT NULL DEFAULT 0;"
      "CREATE TABLE signatures ("
      "  site TEXT NOT NULL,"
      "  manifest TEXT NOT NULL,"
      "  ref TEXT NOT NULL,"
      "  requested_at TEXT NOT NULL,"
      "  received_at TEXT,"
      "  path TEXT,"
      "  bytes INTEGER NOT NULL DEFAULT 0,"
      "  gave_up_at TEXT,"
      "  uses INTEGER NOT NULL DEFAULT 0,"
      "  PRIMARY KEY (site, manifest));",
  };
  return kMigrations;
}

HubState::HubState(const std::filesystem::path& state_dir, const link::Clock& clock)
    : clock_(clock), db_(DatabasePath(state_dir), Migrations(), "hub state") {}

void HubState::AddSites(const std::vector<std::string>& names) {
  link::Database::Transaction tx(db_);
  for (const std::string& name : names) {
    db_.Prepare("INSERT OR IGNORE INTO sites (name) VALUES (?)").Bind(1, name).Run();
  }
  tx.Commit();
}

int64_t HubState::Add(const NewTransfer& t) {
  link::Database::Transaction tx(db_);
  std::string now = UtcText(clock_.Now());
  db_.Prepare("INSERT OR IGNORE INTO sites (name) VALUES (?)").Bind(1, t.site).Run();
  if (t.planned_manifest) {
    db_.Prepare(
           "UPDATE transfers SET state = 'superseded', finished_at = ?1"
           " WHERE site = ?2 AND as_ref = ?3 AND state IN ('queued', 'held')")
        .Bind(1, now)
        .Bind(2, t.site)
        .Bind(3, t.as_ref)
        .Run();
  }
  db_.Prepare(
         "INSERT INTO transfers (site, bundle_digest, path, head_bytes, file_bytes, priority, as_ref, queued_at, state) "
         "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)")
      .Bind(1, t.site)
      .Bind(2, t.bundle_digest)
      .Bind(3, t.path.string())
      .Bind(4, I64(t.head_bytes))
      .Bind(5, I64(t.file_bytes))
      .Bind(6, t.priority)
      .Bind(7, t.as_ref)
      .Bind(8, now)
      .Bind(9, t.held ? "held" : "queued")
      .Run();
  int64_t id = db_.LastInsertId();
  if (t.planned_manifest) {
    db_.Prepare("INSERT OR REPLACE INTO plans (site, ref, manifest, transfer, planned_at) VALUES (?, ?, ?, ?, ?)")
        .Bind(1, t.site)
        .Bind(2, t.as_ref)
        .Bind(3, *t.planned_manifest)
        .Bind(4, id)
        .Bind(5, now)
        .Run();
  }
  for (const auto& [name, n] : t.counts) {
    db_.Prepare("INSERT INTO counters (name, value) VALUES (?1, ?2) ON CONFLICT (name) DO UPDATE SET value = value + ?2")
        .Bind(1, name)
        .Bind(2, I64(n))
        .Run();
  }
  tx.Commit();
  return id;
}

std::map<std::string, uint64_t> HubState::Counters() {
  auto lock = db_.Lock();
  link::Statement st = db_.Prepare("SELECT name, value FROM counters");
  std::map<std::string, uint64_t> counters;
  while (st.Step()) counters.emplace(st.Text(0), U64(st, 1));
  return counters;
}

bool HubState::Approve(const std::string& site, int64_t id) {
  auto lock = db_.Lock();
  db_.Prepare("UPDATE transfers SET state = 'queued' WHERE id = ? AND site = ? AND state = 'held'").Bind(1, id).Bind(2, site).Run();
  return db_.Changes() > 0;
}

bool HubState::Planned(const std::string& site, const std::string& ref, const std::string& manifest) {
  auto lock = db_.Lock();
  link::Statement s = db_.Prepare("SELECT 1 FROM plans WHERE site = ? AND ref = ? AND manifest = ?");
  s.Bind(1, site).Bind(2, ref).Bind(3, manifest);
  return s.Step();
}

void HubState::SetInventory(const std::string& site, const SiteInventory& inventory) {
  link::Database::Transaction tx(db_);
  db_.Prepare(
         "INSERT INTO sites (name, inventory_at, signatures) VALUES (?1, ?2, ?3)"
         " ON CONFLICT (name) DO UPDATE SET inventory_at = ?2, signatures = ?3")
      .Bind(1, site)
      .Bind(2, UtcText(clock_.Now()))
      .Bind(3, int64_t{inventory.signatures})
      .Run();
  db_.Prepare("DELETE FROM site_images WHERE site = ?").Bind(1, site).Run();
  db_.Prepare("DELETE FROM site_blobs WHERE site = ?").Bind(1, site).Run();
  for (const auto& [ref, manifest] : inventory.images) {
    db_.Prepare("INSERT INTO site_images (site, ref, manifest) VALUES (?, ?, ?)").Bind(1, site).Bind(2, ref).Bind(3, manifest).Run();
  }
  for (const std::string& blob : inventory.blobs) {
    db_.Prepare("INSERT INTO site_blobs (site, digest) VALUES (?, ?)").Bind(1, site).Bind(2, blob).Run();
  }
  tx.Commit();
}

std::optional<SiteInventory> HubState::Inventory(const std::string& site) {
  auto lock = db_.Lock();
  link::Statement reported = db_.Prepare("SELECT signatures FROM sites WHERE name = ? AND inventory_at IS NOT NULL");
  reported.Bind(1, site);
  if (!reported.Step()) return std::nullopt;
  SiteInventory out;
  out.signatures = static_cast<uint32_t>(reported.Int(0));
  link::Statement images = db_.Prepare("SELECT ref, manifest FROM site_images WHERE site = ?");
  images.Bind(1, site);
  while (images.Step()) out.images.emplace(images.Text(0), images.Text(1));
  link::Statement blobs = db_.Prepare("SELECT digest FROM site_blobs WHERE site = ?");
  blobs.Bind(1, site);
  while (blobs.Step()) out.blobs.insert(blobs.Text(0));
  return out;
}

bool HubState::RequestSignature(const std::string& site, const std::string& ref, const std::string& manifest) {
  auto lock = db_.Lock();
  db_.Prepare("INSERT OR IGNORE INTO signatures (site, manifest, ref, requested_at) VALUES (?, ?, ?, ?)")
      .Bind(1, site)
      .Bind(2, manifest)
      .Bind(3, ref)
      .Bind(4, UtcText(clock_.Now()))
      .Run();
  return db_.Changes() > 0;
}

std::optional<SignatureRow> HubState::Signature(const std::string& site, const std::string& manifest) {
  auto lock = db_.Lock();
  link::Statement s = db_.Prepare("SELECT " + std::string(kSignatureColumns) + " FROM signatures WHERE site = ? AND manifest = ?");
  s.Bind(1, site).Bind(2, manifest);
  if (!s.Step()) return std::nullopt;
  return ReadSignature(s);
}

std::vector<SignatureRow> HubState::WantedSignatures(const std::string& site) {
  auto lock = db_.Lock();
  link::Statement s = db_.Prepare(
      "SELECT " + std::string(kSignatureColumns) + " FROM signatures"
      " WHERE site = ?1 AND received_at IS NULL AND gave_up_at IS NULL"
      " AND manifest IN (SELECT manifest FROM site_images WHERE site = ?1) ORDER BY requested_at, manifest");
  s.Bind(1, site);
  std::vector<SignatureRow> out;
  while (s.Step()) out.push_back(ReadSignature(s));
  return out;
}

bool HubState::ReceiveSignature(const std::string& site, const std::string& manifest, const std::filesystem::path& path,
                                uint64_t bytes) {
  auto lock = db_.Lock();
  db_.Prepare(
         "UPDATE signatures SET received_at = ?1, path = ?2, bytes = ?3"
         " WHERE site = ?4 AND manifest = ?5 AND received_at IS NULL")
      .Bind(1, UtcText(clock_.Now()))
      .Bind(2, path.string())
      .Bind(3, I64(bytes))
      .Bind(4, site)
      .Bind(5, manifest)
      .Run();
  return db_.Changes() > 0;
}

void HubState::GiveUpSignature(const std::string& site, const std::string& manifest) {
  auto lock = db_.Lock();
  db_.Prepare("UPDATE signatures SET gave_up_at = ?1 WHERE site = ?2 AND manifest = ?3 AND gave_up_at IS NULL")
      .Bind(1, UtcText(clock_.Now()))
      .Bind(2, site)
      .Bind(3, manifest)
      .Run();
}

void HubState::UseSignature(const std::string& site, const std::string& manifest) {
  auto lock = db_.Lock();
  db_.Prepare("UPDATE signatures SET uses = uses + 1 WHERE site = ? AND manifest = ?").Bind(1, site).Bind(2, manifest).Run();
}

std::optional<Transfer> HubState::Find(int64_t id) {
  auto lock = db_.Lock();
  link::Statement s = db_.Prepare("SELECT " + std::string(kColumns) + " FROM transfers WHERE id = ?");
  s.Bind(1, id);
  if (!s.Step()) return std::nullopt;
  return ReadTransfer(s);
}

std::vector<Transfer> HubState::OpenTransfers(const std::string& site) {
  auto lock = db_.Lock();
  link::Statement s = db_.Prepare("SELECT " + std::string(kColumns) +
                                  " FROM transfers WHERE site = ? AND state IN ('queued', 'sending')"
                                  " ORDER BY priority DESC, id");
  s.Bind(1, site);
  std::vector<Transfer> out;
  while (s.Step()) out.push_back(ReadTransfer(s));
  return out;
}

std::vector<Transfer> HubState::HeldTransfers(const std::string& site) {
  auto lock = db_.Lock();
  link::Statement s =
      db_.Prepare("SELECT " + std::string(kColumns) + " FROM transfers WHERE site = ? AND state = 'held' ORDER BY id");
  s.Bind(1, site);
  std::vector<Transfer> out;
  while (s.Step()) out.push_back(ReadTransfer(s));
  return out;
}

std::vector<Transfer> HubState::FinishedTransfers(const std::string& site, int limit) {
  auto lock = db_.Lock();
  link::Statement s = db_.Prepare("SELECT " + std::string(kColumns) +
                                  " FROM transfers WHERE site = ? AND state IN ('applied', 'failed')"
                                  " ORDER BY finished_at DESC, id DESC LIMIT ?");
  s.Bind(1, site).Bind(2, int64_t{limit});
  std::vector<Transfer> out;
  while (s.Step()) out.push_back(ReadTransfer(s));
  return out;
}

SiteRow HubState::Site(const std::string& site) {
  auto lock = db_.Lock();
  SiteRow row;
  row.name = site;
  link::Statement s = db_.Prepare("SELECT last_contact, bytes_sent FROM sites WHERE name = ?");
  s.Bind(1, site);
  if (s.Step()) {
    row.last_contact = s.Text(0);
    row.bytes_sent = U64(s, 1);
  }
  link::Statement today = db_.Prepare("SELECT bytes FROM site_bytes WHERE site = ? AND day = ?");
  today.Bind(1, site).Bind(2, UtcDay(clock_.Now()));
  if (today.Step()) row.bytes_today = U64(today, 0);
  return row;
}

void HubState::Touch(const std::string& site) {
  auto lock = db_.Lock();
  db_.Prepare("INSERT INTO sites (name, last_contact) VALUES (?1, ?2) ON CONFLICT (name) DO UPDATE SET last_contact = ?2")
      .Bind(1, site)
      .Bind(2, UtcText(clock_.Now()))
      .Run();
}

bool HubState::BeginSending(int64_t id) {
  link::Database::Transaction tx(db_);
  db_.Prepare("UPDATE transfers SET attempts = attempts + 1 WHERE id = ?").Bind(1, id).Run();
  db_.Prepare("UPDATE transfers SET state = 'sending' WHERE id = ? AND state = 'queued'").Bind(1, id).Run();
  bool started = db_.Changes() > 0;
  tx.Commit();
  return started;
}

void HubState::AddSent(int64_t id, const std::string& site, uint64_t bytes) {
  if (bytes == 0) return;
  link::Database::Transaction tx(db_);
  db_.Prepare("UPDATE transfers SET bytes_sent = bytes_sent + ?1 WHERE id = ?2").Bind(1, I64(bytes)).Bind(2, id).Run();
  db_.Prepare("UPDATE sites SET bytes_sent = bytes_sent + ?1 WHERE name = ?2").Bind(1, I64(bytes)).Bind(2, site).Run();
  db_.Prepare(
         "INSERT INTO site_bytes (site, day, bytes) VALUES (?1, ?2, ?3)"
         " ON CONFLICT (site, day) DO UPDATE SET bytes = bytes + ?3")
      .Bind(1, site)
      .Bind(2, UtcDay(clock_.Now()))
      .Bind(3, I64(bytes))
      .Run();
  tx.Commit();
}

void HubState::Ack(int64_t id, uint64_t received) {
  auto lock = db_.Lock();
  db_.Prepare("UPDATE transfers SET bytes_acked = MAX(bytes_acked, ?1) WHERE id = ?2").Bind(1, I64(received)).Bind(2, id).Run();
}

bool HubState::Finish(int64_t id, const TransferResult& result) {
  link::Database::Transaction tx(db_);
  db_.Prepare(
         "UPDATE transfers SET state = ?1, manifest = ?2, last_error = ?3, finished_at = ?4"
         " WHERE id = ?5 AND state IN ('queued', 'sending')")
      .Bind(1, result.applied ? "applied" : "failed")
      .Bind(2, result.applied ? std::optional<std::string>(result.manifest) : std::nullopt)
      .Bind(3, result.applied ? std::nullopt : std::optional<std::string>(result.error))
      .Bind(4, UtcText(clock_.Now()))
      .Bind(5, id)
      .Run();
  bool recorded = db_.Changes() > 0;
  tx.Commit();
  return recorded;
}

}  // namespace outpost::hub
