// SQLite for the daemons' state: one connection, WAL, versioned migrations.
//
// The schema version is PRAGMA user_version. Open applies, in one transaction each, every
// migration after the stored version; a database written by a newer outpost (a version past the
// last migration) is refused with a message saying so, never modified.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace outpost::link {

class Database;

// A prepared statement. Bind parameters are 1-based as in SQLite; binding a statement that was
// stepped but not to its end rewinds it first, so a statement is reused by binding again. Not
// thread-safe; use it while holding the Database's lock (Database::Lock).
class Statement {
 public:
  Statement(Statement&&) noexcept;
  Statement& operator=(Statement&&) = delete;
  ~Statement();

  Statement& Bind(int index, int64_t value);
  Statement& Bind(int index, std::string_view text);
  Statement& Bind(int index, const char* text) { return Bind(index, std::string_view(text)); }
  // (A std::string would otherwise be ambiguous between string_view and optional<string>.)
  Statement& Bind(int index, const std::string& text) { return Bind(index, std::string_view(text)); }
  Statement& BindNull(int index);
  Statement& Bind(int index, const std::optional<std::string>& text);

  // Steps once: true when a row is available. Throws IOError naming the statement on failure
  // (SQLITE_FULL: "disk full" in the message).
  bool Step();
  // Steps to completion (an INSERT/UPDATE/DELETE).
  void Run();

  int64_t Int(int column) const;
  std::string Text(int column) const;  // "" for NULL
  bool IsNull(int column) const;

 private:
  friend class Database;
  Statement(Database* db, sqlite3_stmt* stmt, std::string sql);
  void Rewind();  // resets a statement that is part-way through its rows
  Database* db_;
  sqlite3_stmt* stmt_;
  std::string sql_;
};

// One connection. Thread-safe through Lock(): every use of the connection and of its
// statements holds the lock, and Transaction does so for its whole life.
class Database {
 public:
  // Opens or creates `path` (its parent must exist), sets WAL, synchronous=FULL, foreign keys,
  // a 5 s busy timeout (another process, e.g. `outpost hub enqueue`, may write at the same
  // time), then migrates: migrations[i] brings version i to i+1. `what` names it in errors
  // ("hub state"). Throws IOError (cannot open, disk full), Unsupported (newer schema).
  Database(const std::filesystem::path& path, const std::vector<std::string>& migrations, std::string what);
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  std::unique_lock<std::recursive_mutex> Lock() { return std::unique_lock(mu_); }
  // Prepares `sql`; hold Lock() while using the statement.
  Statement Prepare(std::string_view sql);
  // Runs statements without results (may be several, ';'-separated).
  void Exec(std::string_view sql);
  int64_t LastInsertId();
  int64_t Changes();
  int schema_version() const { return version_; }

  // BEGIN IMMEDIATE .. COMMIT; rolls back when destroyed without Commit(). Holds the lock.
  class Transaction {
   public:
    explicit Transaction(Database& db);
    ~Transaction();
    void Commit();

   private:
    Database& db_;
    std::unique_lock<std::recursive_mutex> lock_;
    bool done_ = false;
  };

 private:
  friend class Statement;
  [[noreturn]] void Fail(std::string_view doing, int rc);
  int UserVersion();                        // PRAGMA user_version
  void CheckNotNewer(size_t known) const;   // throws Unsupported when version_ > known
  sqlite3* db_ = nullptr;
  std::recursive_mutex mu_;
  std::string what_;
  int version_ = 0;
};

}  // namespace outpost::link
