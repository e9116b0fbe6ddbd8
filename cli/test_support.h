// Test helpers for the command tests: run a shell command and capture its exit code, stdout and
// stderr. Test code only.
#pragma once

#include <sys/wait.h>

#include <cstdio>
#include <string>

#include "common/file.h"

namespace outpost::cli::testing {

struct RunResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

inline std::string OutpostBinary() { return std::string(OUTPOST_BINARY_DIR) + "/cli/outpost"; }

// Runs `command` with /bin/sh; stdout and stderr are captured separately.
inline RunResult RunCommand(const std::string& command) {
  TempDir tmp;
  std::string err_path = (tmp.path() / "stderr").string();
  RunResult r;
  FILE* p = ::popen((command + " 2>" + err_path).c_str(), "r");
  if (p == nullptr) return r;
  char buf[4096];
  size_t got;
  while ((got = std::fread(buf, 1, sizeof(buf), p)) > 0) r.out.append(buf, got);
  int status = ::pclose(p);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.err = ReadFileToString(err_path);
  return r;
}

}  // namespace outpost::cli::testing
