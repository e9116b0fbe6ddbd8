#include "tests/support/command.h"

#include <sys/wait.h>

#include <cstdio>

#include "common/error.h"
#include "common/file.h"

namespace outpost::testing {
namespace {

// Runs `command`; returns its stdout and, in *status, its wait status.
std::string ReadStdout(const std::string& command, int* status) {
  FILE* p = ::popen(command.c_str(), "r");
  if (p == nullptr) throw ErrnoError("cannot start a shell for", command);
  std::string out;
  char buf[4096];
  size_t got;
  while ((got = std::fread(buf, 1, sizeof(buf), p)) > 0) out.append(buf, got);
  *status = ::pclose(p);
  return out;
}

}  // namespace

RunResult RunCommand(const std::string& command) {
  TempDir tmp;
  std::string err_path = (tmp.path() / "stderr").string();
  int status = 0;
  RunResult r;
  r.out = ReadStdout(command + " 2>" + err_path, &status);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.err = ReadFileToString(err_path);
  return r;
}

int Shell(const std::string& command, std::string* out) {
  int status = 0;
  std::string text = ReadStdout("( " + command + " ) 2>&1", &status);
  if (out != nullptr) *out = std::move(text);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

std::string OutpostBinary() { return std::string(OUTPOST_BINARY_DIR) + "/cli/outpost"; }

}  // namespace outpost::testing
