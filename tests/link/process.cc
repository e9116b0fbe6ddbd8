#include "tests/link/process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>

#include <thread>

#include "common/error.h"

extern char** environ;

namespace outpost::testing {

Process::Process(std::vector<std::string> argv, std::vector<std::string> env, std::filesystem::path log)
    : log_(std::move(log)) {
  std::vector<std::string> envs;
  for (char** e = environ; *e != nullptr; ++e) envs.emplace_back(*e);
  envs.insert(envs.end(), env.begin(), env.end());
  std::vector<char*> args, envp;
  for (std::string& a : argv) args.push_back(a.data());
  for (std::string& e : envs) envp.push_back(e.data());
  args.push_back(nullptr);
  envp.push_back(nullptr);
  int fd = ::open(log_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) throw ErrnoError("cannot open log", log_.string());
  pid_ = ::fork();
  if (pid_ < 0) throw ErrnoError("cannot fork for", argv[0]);
  if (pid_ == 0) {
    ::dup2(fd, 1);
    ::dup2(fd, 2);
    ::execve(args[0], args.data(), envp.data());
    ::_exit(127);
  }
  ::close(fd);
}

Process::~Process() {
  if (Running()) {
    Signal(SIGKILL);
    Wait(std::chrono::seconds(10));
  }
}

void Process::Signal(int sig) {
  if (!status_) ::kill(pid_, sig);
}

std::optional<int> Process::Wait(std::chrono::milliseconds timeout) {
  auto end = std::chrono::steady_clock::now() + timeout;
  while (!status_) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      status_ = status;
      break;
    }
    if (std::chrono::steady_clock::now() > end) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return status_;
}

bool Process::Running() { return !Wait(std::chrono::milliseconds(0)); }

}  // namespace outpost::testing
