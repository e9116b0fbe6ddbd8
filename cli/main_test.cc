// The binary's own behaviour: scratch files do not outlive an interrupted run.
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <fstream>
#include <vector>

#include "tests/support/command.h"
#include "common/file.h"

namespace outpost::cli {
namespace {

TEST(MainTest, SigtermRemovesTheRunsScratchDirectoryWithWhatItHolds) {
  TempDir dir;
  fs::path tmp = dir.path() / "tmp";
  fs::create_directory(tmp);
  fs::path fifo = dir.path() / "archive.tar.gz";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  std::string binary = testing::OutpostBinary(), source = "oci-archive:" + fifo.string();
  pid_t pid = ::fork();
  if (pid == 0) {
    ::setenv("TMPDIR", tmp.c_str(), 1);
    ::execl(binary.c_str(), "outpost", "inspect", source.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  // outpost makes its run directory first thing, then blocks opening the FIFO (no writer comes).
  for (int i = 0; i < 3000 && fs::is_empty(tmp); ++i) ::usleep(10000);
  std::vector<fs::path> runs{fs::directory_iterator(tmp), fs::directory_iterator()};
  ASSERT_EQ(runs.size(), 1u);
  std::ofstream(runs[0] / "layer-0", std::ios::binary) << std::string(1 << 20, 'x');  // as a scratch file would
  ::kill(pid, SIGTERM);
  int status = 0;
  ::waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 128 + SIGTERM);
  EXPECT_TRUE(fs::is_empty(tmp));
}

}  // namespace
}  // namespace outpost::cli
