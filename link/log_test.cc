#include "link/log.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <spdlog/spdlog.h>
#include <stdlib.h>
#include <unistd.h>

#include <cstdio>

#include "common/file.h"

namespace outpost::link {
namespace {

using ::testing::HasSubstr;
using ::testing::MatchesRegex;
using ::testing::Not;

// What `log` writes to stderr, logging set up as InitDaemonLogging(verbose) does.
template <typename Log>
std::string CaptureStderr(bool verbose, Log log) {
  TempDir dir;
  std::string path = (dir.path() / "stderr").string();
  std::fflush(stderr);
  int saved = ::dup(2);
  FILE* file = std::fopen(path.c_str(), "w");
  ::dup2(::fileno(file), 2);
  InitDaemonLogging(verbose);
  log();
  spdlog::default_logger()->flush();
  std::fflush(stderr);
  ::dup2(saved, 2);
  ::close(saved);
  std::fclose(file);
  return ReadFileToString(path);
}

TEST(InitDaemonLogging, WritesLevelAndMessageForTheJournal) {
  ::setenv("JOURNAL_STREAM", "8:1234", 1);
  std::string out = CaptureStderr(false, [] {
    spdlog::info("site {}: bundle {} queued", "oslo", "sha256:ab");
    spdlog::debug("hidden");
  });
  ::unsetenv("JOURNAL_STREAM");
  EXPECT_EQ(out, "[info] site oslo: bundle sha256:ab queued\n");
}

TEST(InitDaemonLogging, AddsAnIsoTimeOutsideTheJournalAndDebugWhenVerbose) {
  ::unsetenv("JOURNAL_STREAM");
  std::string out = CaptureStderr(true, [] { spdlog::debug("site oslo: dialling"); });
  EXPECT_THAT(out, MatchesRegex("[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z \\[debug\\] site oslo: dialling\n"));
}

}  // namespace
}  // namespace outpost::link
