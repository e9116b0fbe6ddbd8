// Progress reporting for long commands: a terminal line on stderr when it is a TTY and --quiet
// was not given, nothing otherwise.
#pragma once

#include <unistd.h>

#include <cstdio>
#include <memory>

#include "hub/progress.h"

namespace outpost::cli {

inline std::unique_ptr<hub::Progress> MakeProgress(bool quiet) {
  if (quiet || ::isatty(STDERR_FILENO) == 0) return std::make_unique<hub::NullProgress>();
  return std::make_unique<hub::TerminalProgress>(stderr);
}

}  // namespace outpost::cli
