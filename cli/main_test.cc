// The binary's own behaviour: scratch files do not outlive an interrupted run.
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <fstream>
#include <vector>

#include "cli/test_support.h"
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
  // Opening the FIFO returns once outpost opened it to read, after it made its run directory;
  // it then waits for bytes that do not come.
  int fd = ::open(fifo.c_str(), O_WRONLY);
  ASSERT_GE(fd, 0);
  std::vector<fs::path> runs{fs::directory_iterator(tmp), fs::directory_iterator()};
  ASSERT_EQ(runs.size(), 1u);
  std::ofstream(runs[0] / "layer-0", std::ios::binary) << std::string(1 << 20, 'x');  // as a scratch file would
  ::kill(pid, SIGTERM);
  int status = 0;
  ::waitpid(pid, &status, 0);
  ::close(fd);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 128 + SIGTERM);
  EXPECT_TRUE(fs::is_empty(tmp));
}

}  // namespace
}  // namespace outpost::cli
