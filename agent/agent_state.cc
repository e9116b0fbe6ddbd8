#include "agent/agent_state.h"

#include "common/error.h"

namespace outpost::agent {
namespace {

constexpr const char* kColumns =
    "id, bundle, head_bytes, file_bytes, as_ref, durable_bytes, state, reported, manifest, tag, error, updated_at, keep";

TransferState ParseState(const std::string& s) {
  for (TransferState t : {TransferState::kFetching, TransferState::kReceived, TransferState::kApplied,
                          TransferState::kFailed}) {
    if (StateName(t) == s) return t;
  }
  throw Corruption("agent state: unknown transfer state \"", s, "\"");
}

TransferRow ReadRow(const link::Statement& st) {
  TransferRow r;
  r.item = {st.Int(0), st.Text(1), static_cast<uint64_t>(st.Int(2)), static_cast<uint64_t>(st.Int(3)), st.Text(4)};
  r.durable_bytes = static_cast<uint64_t>(st.Int(5));
  r.state = ParseState(st.Text(6));
  r.reported = st.Int(7) != 0;
  r.manifest = st.Text(8);
  r.tag = st.Text(9);
  r.error = st.Text(10);
  r.updated_at = st.Int(11);
  if (!st.IsNull(12)) r.item.keep = static_cast<uint32_t>(st.Int(12));
  return r;
}

}  // namespace

std::string_view StateName(TransferState s) {
  switch (s) {
    case TransferState::kFetching: return "fetching";
    case TransferState::kReceived: return "received";
    case TransferState::kApplied: return "applied";
    case TransferState::kFailed: return "failed";
  }
  return "?";
}

const std::vector<std::string>& AgentState::Migrations() {
  static const std::vector<std::string> migrations = {
      R"(CREATE TABLE transfers (
           id INTEGER PRIMARY KEY,
           bundle TEXT NOT NULL,
           head_bytes INTEGER NOT NULL,
           file_bytes INTEGER NOT NULL,
           as_ref TEXT NOT NULL DEFAULT '',
           durable_bytes INTEGER NOT NULL DEFAULT 0,
           state TEXT NOT NULL DEFAULT 'fetching'
             CHECK (state IN ('fetching', 'received', 'applied', 'failed')),
           reported INTEGER NOT NULL DEFAULT 0,
           manifest TEXT,
           tag TEXT,
           error TEXT,
           created_at INTEGER NOT NULL,
           updated_at INTEGER NOT NULL);
         CREATE TABLE applied (
           manifest TEXT NOT NULL,
           tag TEXT NOT NULL,
           bundle TEXT NOT NULL,
           transfer INTEGER NOT NULL REFERENCES transfers(id),
           applied_at INTEGER NOT NULL);)",
      R"(ALTER TABLE transfers ADD COLUMN keep INTEGER;
         CREATE TABLE removed (
           transfer INTEGER NOT NULL REFERENCES transfers(id),
           as_ref TEXT NOT NULL,
           manifest TEXT NOT NULL,
           how TEXT NOT NULL CHECK (how IN ('removed', 'deleted', 'gone')),
           removed_at INTEGER NOT NULL);)"};
  return migrations;
}

AgentState::AgentState(const std::filesystem::path& path, const link::Clock& clock)
    : clock_(clock), db_(path, Migrations(), "agent state") {}

int64_t AgentState::Now() const {
  return std::chrono::duration_cast<std::chrono::seconds>(clock_.Now().time_since_epoch()).count();
}

std::optional<TransferRow> AgentState::Find(int64_t id) {
  auto lock = db_.Lock();
  auto st = db_.Prepare(std::string("SELECT ") + kColumns + " FROM transfers WHERE id = ?");
  st.Bind(1, id);
  if (!st.Step()) return std::nullopt;
  return ReadRow(st);
}

TransferRow AgentState::Begin(const WorkItem& item) {
  link::Database::Transaction tx(db_);
  if (std::optional<TransferRow> row = Find(item.id)) return *row;
  link::Statement insert =
      db_.Prepare("INSERT INTO transfers (id, bundle, head_bytes, file_bytes, as_ref, created_at, updated_at, keep) "
                  "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6, ?7)");
  insert.Bind(1, item.id)
      .Bind(2, item.bundle)
      .Bind(3, static_cast<int64_t>(item.head_bytes))
      .Bind(4, static_cast<int64_t>(item.file_bytes))
      .Bind(5, item.as)
      .Bind(6, Now());
  if (item.keep) insert.Bind(7, int64_t{*item.keep});
  insert.Run();
  tx.Commit();
  TransferRow row;
  row.item = item;
  return row;
}

void AgentState::SetDurable(int64_t id, uint64_t bytes) {
  auto lock = db_.Lock();
  db_.Prepare("UPDATE transfers SET durable_bytes = ?1, updated_at = ?3 WHERE id = ?2")
      .Bind(1, static_cast<int64_t>(bytes))
      .Bind(2, id)
      .Bind(3, Now())
      .Run();
}

void AgentState::SetState(int64_t id, TransferState state, std::string_view column, const std::string& value) {
  auto lock = db_.Lock();
  std::string sql = "UPDATE transfers SET state = ?1, updated_at = ?4";
  if (!column.empty()) sql += std::string(", ") + std::string(column) + " = ?3";
  link::Statement st = db_.Prepare(sql + " WHERE id = ?2");
  st.Bind(1, StateName(state)).Bind(2, id).Bind(4, Now());
  if (!column.empty()) st.Bind(3, value);
  st.Run();
}

void AgentState::SetReceived(int64_t id) {
  auto lock = db_.Lock();
  db_.Prepare("UPDATE transfers SET state = 'received', updated_at = ?2 WHERE id = ?1 AND state = 'fetching'")
      .Bind(1, id)
      .Bind(2, Now())
      .Run();
}

void AgentState::SetFailed(int64_t id, const std::string& error) {
  SetState(id, TransferState::kFailed, "error", error);
}

void AgentState::SetApplied(int64_t id, const std::string& manifest, const std::string& tag) {
  link::Database::Transaction tx(db_);
  SetState(id, TransferState::kApplied, "manifest", manifest);
  db_.Prepare("UPDATE transfers SET tag = ? WHERE id = ?").Bind(1, tag).Bind(2, id).Run();
  db_.Prepare("INSERT INTO applied (manifest, tag, bundle, transfer, applied_at) "
              "SELECT ?1, ?2, bundle, id, ?4 FROM transfers WHERE id = ?3")
      .Bind(1, manifest)
      .Bind(2, tag)
      .Bind(3, id)
      .Bind(4, Now())
      .Run();
  tx.Commit();
}

void AgentState::SetReported(int64_t id) {
  auto lock = db_.Lock();
  db_.Prepare("UPDATE transfers SET reported = 1, updated_at = ?2 WHERE id = ?1").Bind(1, id).Bind(2, Now()).Run();
}

std::vector<TransferRow> AgentState::Unreported() {
  auto lock = db_.Lock();
  auto st = db_.Prepare(std::string("SELECT ") + kColumns +
                        " FROM transfers WHERE state IN ('applied', 'failed') AND reported = 0 ORDER BY updated_at, id");
  std::vector<TransferRow> rows;
  while (st.Step()) rows.push_back(ReadRow(st));
  return rows;
}

std::vector<TransferRow> AgentState::Recent(int limit) {
  auto lock = db_.Lock();
  auto st = db_.Prepare(std::string("SELECT ") + kColumns +
                        " FROM transfers ORDER BY state IN ('fetching', 'received') DESC, updated_at DESC, id DESC"
                        " LIMIT ?");
  st.Bind(1, int64_t{limit});
  std::vector<TransferRow> rows;
  while (st.Step()) rows.push_back(ReadRow(st));
  return rows;
}

std::vector<PublishedVersion> AgentState::Published() {
  auto lock = db_.Lock();
  auto st = db_.Prepare(
      "SELECT a.transfer, t.as_ref, a.manifest, t.keep FROM applied a JOIN transfers t ON t.id = a.transfer "
      "WHERE t.as_ref != '' AND a.transfer NOT IN (SELECT transfer FROM removed) ORDER BY a.applied_at, a.rowid");
  std::vector<PublishedVersion> rows;
  while (st.Step()) {
    PublishedVersion v{st.Int(0), st.Text(1), st.Text(2), std::nullopt};
    if (!st.IsNull(3)) v.keep = static_cast<uint32_t>(st.Int(3));
    rows.push_back(std::move(v));
  }
  return rows;
}

void AgentState::SetRemoved(const PublishedVersion& version, const std::string& how) {
  auto lock = db_.Lock();
  db_.Prepare("INSERT INTO removed (transfer, as_ref, manifest, how, removed_at) VALUES (?, ?, ?, ?, ?)")
      .Bind(1, version.transfer)
      .Bind(2, version.as)
      .Bind(3, version.manifest)
      .Bind(4, how)
      .Bind(5, Now())
      .Run();
}

std::vector<TransferRow> AgentState::Pending() {
  auto lock = db_.Lock();
  auto st = db_.Prepare(std::string("SELECT ") + kColumns +
                        " FROM transfers WHERE state IN ('fetching', 'received') ORDER BY id");
  std::vector<TransferRow> rows;
  while (st.Step()) rows.push_back(ReadRow(st));
  return rows;
}

std::vector<std::pair<std::string, std::string>> AgentState::Applied() {
  auto lock = db_.Lock();
  auto st = db_.Prepare("SELECT manifest, tag FROM applied ORDER BY rowid");
  std::vector<std::pair<std::string, std::string>> rows;
  while (st.Step()) rows.emplace_back(st.Text(0), st.Text(1));
  return rows;
}

}  // namespace outpost::agent
