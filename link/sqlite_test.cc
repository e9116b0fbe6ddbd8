#include "link/sqlite.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/file.h"
#include "tests/support/matchers.h"

namespace outpost::link {
namespace {

using ::testing::HasSubstr;
using outpost::testing::ThrowsKind;

const std::vector<std::string> kMigrations = {
    "CREATE TABLE site (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, note TEXT)",
    "CREATE TABLE bundle (id INTEGER PRIMARY KEY, site INTEGER NOT NULL REFERENCES site(id))",
};

int64_t QueryInt(Database& db, const std::string& sql) {
  Statement s = db.Prepare(sql);
  EXPECT_TRUE(s.Step());
  return s.Int(0);
}

std::string QueryText(Database& db, const std::string& sql) {
  Statement s = db.Prepare(sql);
  EXPECT_TRUE(s.Step());
  return s.Text(0);
}

TEST(Database, AppliesEveryMigrationAndRecordsTheVersion) {
  TempDir dir;
  Database db(dir.path() / "state.db", kMigrations, "hub state");
  EXPECT_EQ(db.schema_version(), 2);
  EXPECT_EQ(QueryInt(db, "PRAGMA user_version"), 2);
  db.Prepare("INSERT INTO site (name) VALUES (?)").Bind(1, "oslo").Run();
  EXPECT_EQ(db.LastInsertId(), 1);
}

TEST(Database, UsesWalFullSyncAndForeignKeys) {
  TempDir dir;
  Database db(dir.path() / "state.db", kMigrations, "hub state");
  EXPECT_EQ(QueryText(db, "PRAGMA journal_mode"), "wal");
  EXPECT_EQ(QueryInt(db, "PRAGMA synchronous"), 2);
  EXPECT_EQ(QueryInt(db, "PRAGMA foreign_keys"), 1);
  EXPECT_THAT([&] { db.Exec("INSERT INTO bundle (site) VALUES (42)"); }, ThrowsKind(Error::Kind::kIO, HasSubstr("FOREIGN KEY")));
}

TEST(Database, AppliesOnlyTheNewMigrationsOnReopen) {
  TempDir dir;
  {
    Database db(dir.path() / "state.db", {kMigrations[0]}, "hub state");
    db.Prepare("INSERT INTO site (name) VALUES (?)").Bind(1, "oslo").Run();
  }
  Database db(dir.path() / "state.db", kMigrations, "hub state");
  EXPECT_EQ(db.schema_version(), 2);
  EXPECT_EQ(QueryText(db, "SELECT name FROM site"), "oslo");
}

TEST(Database, RefusesASchemaFromANewerOutpost) {
  TempDir dir;
  { Database db(dir.path() / "state.db", kMigrations, "hub state"); }
  EXPECT_THAT([&] { Database db(dir.path() / "state.db", {kMigrations[0]}, "hub state"); },
              ThrowsKind(Error::Kind::kUnsupported, HasSubstr("newer outpost")));
}

TEST(Database, RollsBackAFailedMigration) {
  TempDir dir;
  EXPECT_THAT([&] { Database db(dir.path() / "state.db", {kMigrations[0], "CREATE TABLE x (a); SELECT nonsense("}, "hub state"); },
              ThrowsKind(Error::Kind::kIO, HasSubstr("hub state")));
  Database db(dir.path() / "state.db", {kMigrations[0]}, "hub state");
  EXPECT_EQ(db.schema_version(), 1);
  EXPECT_EQ(QueryInt(db, "SELECT count(*) FROM sqlite_master WHERE name = 'x'"), 0);
}

TEST(Database, ReportsAFullDiskAsAnIoError) {
  TempDir dir;
  Database db(dir.path() / "state.db", kMigrations, "hub state");
  db.Exec("PRAGMA max_page_count = " + std::to_string(QueryInt(db, "PRAGMA page_count")));
  Statement insert = db.Prepare("INSERT INTO site (name) VALUES (?)");
  EXPECT_THAT([&] { insert.Bind(1, std::string(100000, 'x')).Run(); }, ThrowsKind(Error::Kind::kIO, HasSubstr("disk full")));
}

TEST(Database, ReadsBackTextIntegersAndNulls) {
  TempDir dir;
  Database db(dir.path() / "state.db", kMigrations, "hub state");
  db.Prepare("INSERT INTO site (id, name, note) VALUES (?, ?, ?)").Bind(1, int64_t{7}).Bind(2, "oslo").Bind(3, std::nullopt).Run();
  Statement s = db.Prepare("SELECT id, name, note FROM site");
  ASSERT_TRUE(s.Step());
  EXPECT_EQ(s.Int(0), 7);
  EXPECT_EQ(s.Text(1), "oslo");
  EXPECT_TRUE(s.IsNull(2));
  EXPECT_EQ(s.Text(2), "");
  EXPECT_FALSE(s.Step());
}

TEST(Database, AStatementIsReusedByBindingAgain) {
  TempDir dir;
  Database db(dir.path() / "state.db", kMigrations, "hub state");
  db.Exec("INSERT INTO site (name) VALUES ('oslo'), ('bergen')");
  Statement s = db.Prepare("SELECT id FROM site WHERE name = ?");
  ASSERT_TRUE(s.Bind(1, "oslo").Step());
  EXPECT_EQ(s.Int(0), 1);
  ASSERT_TRUE(s.Bind(1, "bergen").Step());
  EXPECT_EQ(s.Int(0), 2);
}

TEST(Database, TransactionWithoutCommitRollsBack) {
  TempDir dir;
  Database db(dir.path() / "state.db", kMigrations, "hub state");
  {
    Database::Transaction tx(db);
    db.Exec("INSERT INTO site (name) VALUES ('oslo')");
  }
  EXPECT_EQ(QueryInt(db, "SELECT count(*) FROM site"), 0);
  {
    Database::Transaction tx(db);
    db.Exec("INSERT INTO site (name) VALUES ('bergen')");
    tx.Commit();
  }
  EXPECT_EQ(QueryInt(db, "SELECT count(*) FROM site"), 1);
  EXPECT_EQ(db.Changes(), 1);
}

TEST(Database, FailsToOpenInAMissingFolderWithAnIoError) {
  TempDir dir;
  EXPECT_THAT([&] { Database db(dir.path() / "no" / "state.db", kMigrations, "agent state"); },
              ThrowsKind(Error::Kind::kIO, HasSubstr("agent state")));
}

}  // namespace
}  // namespace outpost::link
