// Real daemon processes for integration tests: start with extra environment, log to a file,
// signal (SIGTERM, SIGKILL), wait with a deadline. Test code only.
#pragma once

#include <sys/types.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "tests/support/ports.h"

namespace outpost::testing {

class Process {
 public:
  // Starts argv[0] (a path) with `argv`; `env` ("NAME=value") is added to this process's
  // environment; stdout and stderr are appended to `log`. Throws IOError when fork fails.
  Process(std::vector<std::string> argv, std::vector<std::string> env, std::filesystem::path log);
  // Kills (SIGKILL) and reaps the process if it is still running.
  ~Process();
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  void Signal(int sig);
  // Waits up to `timeout` for the process to end: its wait status, or nullopt if still running.
  std::optional<int> Wait(std::chrono::milliseconds timeout);
  bool Running();
  pid_t pid() const { return pid_; }
  const std::filesystem::path& log() const { return log_; }

 private:
  pid_t pid_ = -1;
  std::optional<int> status_;
  std::filesystem::path log_;
};

// Polls `done` every 100 ms until it returns true or `timeout` passes; returns its last value.
template <typename Pred>
bool WaitUntil(Pred done, std::chrono::milliseconds timeout) {
  auto end = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() > end) return false;
    ::usleep(100'000);
  }
  return true;
}

}  // namespace outpost::testing
