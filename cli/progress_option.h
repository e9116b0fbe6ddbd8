// Progress reporting for long commands: a terminal line on stderr when it is a TTY and --quiet
// was not given, nothing otherwise.
#pragma once

#include <unistd.h>

#include <cstdio>
#include <memory>

#include "sync/progress.h"

namespace outpost::cli {

inline std::unique_ptr<sync::Progress> MakeProgress(bool quiet) {
  if (quiet || ::isatty(STDERR_FILENO) == 0) return std::make_unique<sync::NullProgress>();
  return std::make_unique<sync::TerminalProgress>(stderr);
}

}  // namespace outpost::cli
