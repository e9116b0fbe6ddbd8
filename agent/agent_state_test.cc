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

TEST_F(AgentStateTest, CreatesSchemaVersionOne) {
  AgentState state(db_, clock_);
  EXPECT_EQ(state.schema_version(), 1);
  EXPECT_EQ(AgentState::Migrations().size(), 1u);
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
