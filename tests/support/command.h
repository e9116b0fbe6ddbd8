// Runs shell commands from tests (the outpost binary, skopeo, registries) and captures what
// they print. Test code only.
#pragma once

#include <string>

namespace outpost::testing {

struct RunResult {
  int exit_code = -1;  // the command's exit status; -1 when it did not exit normally
  std::string out;     // its stdout
  std::string err;     // its stderr
};

// Runs `command` with /bin/sh; stdout and stderr are captured separately.
RunResult RunCommand(const std::string& command);

// Runs `command` with /bin/sh; returns its exit status (128 when it did not exit normally) and,
// in *out when given, stdout and stderr together as they interleaved.
int Shell(const std::string& command, std::string* out = nullptr);

// The outpost binary of this build tree.
std::string OutpostBinary();

}  // namespace outpost::testing
