// SQLite for the daemons' state (sqlite.h).
#include "link/sqlite.h"

#include <utility>

#include "common/error.h"

namespace outpost::link {

namespace {

// The message and kind for a failed SQLite call: a full disk is an I/O error that says so.
Error SqliteError(std::string_view what, std::string_view doing, int rc, sqlite3* db) {
  std::string detail = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  if ((rc & 0xff) == SQLITE_FULL) detail = "disk full (" + detail + ")";
  return IOError(what, ": ", doing, ": ", detail);
}

}  // namespace

Statement::Statement(Database* db, sqlite3_stmt* stmt, std::string sql) : db_(db), stmt_(stmt), sql_(std::move(sql)) {}

Statement::Statement(Statement&& other) noexcept
    : db_(other.db_), stmt_(std::exchange(other.stmt_, nullptr)), sql_(std::move(other.sql_)) {}

Statement::~Statement() { sqlite3_finalize(stmt_); }

void Statement::Rewind() {
  if (sqlite3_stmt_busy(stmt_)) sqlite3_reset(stmt_);
}

Statement& Statement::Bind(int index, int64_t value) {
  Rewind();
  int rc = sqlite3_bind_int64(stmt_, index, value);
  if (rc != SQLITE_OK) db_->Fail("binding parameter of `" + sql_ + "`", rc);
  return *this;
}

Statement& Statement::Bind(int index, std::string_view text) {
  Rewind();
  int rc = sqlite3_bind_text64(stmt_, index, text.data(), text.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
  if (rc != SQLITE_OK) db_->Fail("binding parameter of `" + sql_ + "`", rc);
  return *this;
}

Statement& Statement::BindNull(int index) {
  Rewind();
  int rc = sqlite3_bind_null(stmt_, index);
  if (rc != SQLITE_OK) db_->Fail("binding parameter of `" + sql_ + "`", rc);
  return *this;
}

Statement& Statement::Bind(int index, const std::optional<std::string>& text) {
  return text ? Bind(index, std::string_view(*text)) : BindNull(index);
}

bool Statement::Step() {
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) {
    sqlite3_reset(stmt_);
    return false;
  }
  sqlite3_reset(stmt_);
  db_->Fail("running `" + sql_ + "`", rc);
}

void Statement::Run() {
  while (Step()) {
  }
}

int64_t Statement::Int(int column) const { return sqlite3_column_int64(stmt_, column); }

std::string Statement::Text(int column) const {
  const unsigned char* text = sqlite3_column_text(stmt_, column);
  if (text == nullptr) return "";
  return std::string(reinterpret_cast<const char*>(text), static_cast<size_t>(sqlite3_column_bytes(stmt_, column)));
}

bool Statement::IsNull(int column) const { return sqlite3_column_type(stmt_, column) == SQLITE_NULL; }

Database::Database(const std::filesystem::path& path, const std::vector<std::string>& migrations, std::string what)
    : what_(std::move(what)) {
  what_ += " (" + path.string() + ")";
  int rc = sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    Error error = SqliteError(what_, "cannot open", rc, db_);
    sqlite3_close_v2(db_);
    db_ = nullptr;
    throw error;
  }
  try {
    sqlite3_extended_result_codes(db_, 1);
    sqlite3_busy_timeout(db_, 5000);
    Exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON");
    version_ = UserVersion();
    CheckNotNewer(migrations.size());
    while (version_ < static_cast<int>(migrations.size())) {
      Transaction tx(*this);
      // Read again under the write lock: another process (a CLI beside the daemon) may have
      // migrated since, and running a migration twice fails (a column added twice).
      version_ = UserVersion();
      CheckNotNewer(migrations.size());
      if (version_ == static_cast<int>(migrations.size())) break;
      Exec(migrations[static_cast<size_t>(version_)]);
      Exec("PRAGMA user_version = " + std::to_string(version_ + 1));
      tx.Commit();
      ++version_;
    }
  } catch (...) {
    sqlite3_close_v2(db_);
    throw;
  }
}

Database::~Database() { sqlite3_close_v2(db_); }

int Database::UserVersion() {
  // Finalized before it returns: a pending statement makes DROP TABLE fail (SQLITE_LOCKED).
  Statement version = Prepare("PRAGMA user_version");
  version.Step();
  return static_cast<int>(version.Int(0));
}

void Database::CheckNotNewer(size_t known) const {
  if (version_ > static_cast<int>(known)) {
    throw Unsupported(what_, " has schema version ", std::to_string(version_), " but this outpost knows only up to ",
                      std::to_string(known), ": it was written by a newer outpost; upgrade outpost");
  }
}

void Database::Fail(std::string_view doing, int rc) { throw SqliteError(what_, doing, rc, db_); }

Statement Database::Prepare(std::string_view sql) {
  auto lock = Lock();
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v2(db_, sql.data(), static_cast<int>(sql.size()), &stmt, nullptr);
  if (rc != SQLITE_OK) Fail(Concat("preparing `", std::string(sql), "`"), rc);
  return Statement(this, stmt, std::string(sql));
}

void Database::Exec(std::string_view sql) {
  auto lock = Lock();
  std::string text(sql);
  int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) Fail("running `" + text + "`", rc);
}

int64_t Database::LastInsertId() {
  auto lock = Lock();
  return sqlite3_last_insert_rowid(db_);
}

int64_t Database::Changes() {
  auto lock = Lock();
  return sqlite3_changes64(db_);
}

Database::Transaction::Transaction(Database& db) : db_(db), lock_(db.Lock()) { db_.Exec("BEGIN IMMEDIATE"); }

Database::Transaction::~Transaction() {
  if (done_) return;
  sqlite3_exec(db_.db_, "ROLLBACK", nullptr, nullptr, nullptr);
}

void Database::Transaction::Commit() {
  db_.Exec("COMMIT");
  done_ = true;
}

}  // namespace outpost::link
