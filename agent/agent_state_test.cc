#include "agent/agent_state.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "agent/test_clock.h"
#include "common/file.h"
#include "tests/support/matchers.h"

namespace outpost::agent {
namespace {

WorkItem Item(int64_t id) { return WorkItem{id, "sha256:" + std::string(64, 'a'), 100, 5000, "app:2.0"}; }

class AgentStateTest : public ::testing::Test {
 protected:
  TempDir dir_;
  testing::FixedClock clock_;
  std::filesystem::path db_ = dir_.path() / "agent.db";
};

TEST_F(AgentStateTest, CreatesSchemaVersionTwo) {
  AgentState state(db_, clock_);
  EXPECT_EQ(state.schema_version(), 2);
  EXPECT_EQ(AgentState::Migrations().size(), 2u);
}

TEST_F(AgentStateTest, AVersionOneDatabaseKeepsItsRowsWithNoKeepKnown) {
  {
    link::Database v1(db_, {AgentState::Migrations()[0]}, "agent state");
    v1.Exec("INSERT INTO transfers (id, bundle, head_bytes, file_bytes, as_ref, created_at, updated_at) "
            "VALUES (4, 'sha256:b', 10, 20, 'app:1.0', 0, 0)");
  }
  AgentState state(db_, clock_);
  EXPECT_EQ(state.schema_version(), 2);
  ASSERT_TRUE(state.Find(4));
  EXPECT_EQ(state.Find(4)->item.keep, std::nullopt);
}

TEST_F(AgentStateTest, PublishedListsAppliedVersionsWithAnAsUntilTheyAreRemoved) {
  AgentState state(db_, clock_);
  WorkItem told = Item(1);
  told.keep = 3;
  state.Begin(told);
  state.Begin(Item(2));
  WorkItem untagged = Item(3);
  untagged.as = "";
  state.Begin(untagged);
  state.Begin(Item(4));
  state.SetApplied(1, "sha256:m1", "app:2.0");
  state.SetApplied(2, "sha256:m2", "app:2.0");
  state.SetApplied(3, "sha256:m3", "x");
  std::vector<PublishedVersion> published = state.Published();
  ASSERT_EQ(published.size(), 2u);
  EXPECT_EQ(published[0].transfer, 1);
  EXPECT_EQ(published[0].keep, 3u);
  EXPECT_EQ(published[1].manifest, "sha256:m2");
  EXPECT_EQ(published[1].keep, std::nullopt);
  state.SetRemoved(published[0], "removed");
  ASSERT_EQ(state.Published().size(), 1u);
  EXPECT_EQ(state.Published()[0].transfer, 2);
  ASSERT_EQ(state.Pending().size(), 1u);
  EXPECT_EQ(state.Pending()[0].item.id, 4);
}

TEST_F(AgentStateTest, BeginInsertsOnceAndKeepsProgressAcrossARestart) {
  {
    AgentState state(db_, clock_);
    TransferRow row = state.Begin(Item(7));
    EXPECT_EQ(row.state, TransferState::kFetching);
    EXPECT_EQ(row.durable_bytes, 0u);
    state.SetDurable(7, 1234);
    EXPECT_EQ(state.Begin(Item(7)).durable_bytes, 1234u);
  }
  AgentState reopened(db_, clock_);
  std::optional<TransferRow> row = reopened.Find(7);
  ASSERT_TRUE(row);
  EXPECT_EQ(row->durable_bytes, 1234u);
  EXPECT_EQ(row->item.as, "app:2.0");
  EXPECT_EQ(row->item.file_bytes, 5000u);
  EXPECT_FALSE(reopened.Find(8));
}

TEST_F(AgentStateTest, ResultsStayUnreportedUntilTheHubConfirms) {
  AgentState state(db_, clock_);
  state.Begin(Item(1));
  state.Begin(Item(2));
  state.Begin(Item(3));
  state.SetReceived(1);
  state.SetApplied(1, "sha256:m", "app:2.0");
  state.SetFailed(2, "bad signature");
  std::vector<TransferRow> open = state.Unreported();
  ASSERT_EQ(open.size(), 2u);
  EXPECT_EQ(open[0].item.id, 1);
  EXPECT_EQ(open[0].manifest, "sha256:m");
  EXPECT_EQ(open[0].tag, "app:2.0");
  EXPECT_EQ(open[1].error, "bad signature");
  state.SetReported(1);
  ASSERT_EQ(state.Unreported().size(), 1u);
  EXPECT_EQ(state.Unreported()[0].item.id, 2);
  EXPECT_EQ(state.Applied(), (std::vector<std::pair<std::string, std::string>>{{"sha256:m", "app:2.0"}}));
}

TEST_F(AgentStateTest, RefusesADatabaseFromANewerAgent) {
  { AgentState state(db_, clock_); }
  {
    std::vector<std::string> newer = AgentState::Migrations();
    newer.push_back("CREATE TABLE later (x INTEGER)");
    link::Database db(db_, newer, "agent state");
  }
  EXPECT_THAT([&] { AgentState state(db_, clock_); }, outpost::testing::ThrowsKind(Error::Kind::kUnsupported));
}

}  // namespace
}  // namespace outpost::agent
