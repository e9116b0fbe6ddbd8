// Daemon logging: spdlog to stderr, one line per event, no colour (journald adds the time).
#pragma once

#include <string_view>

namespace outpost::link {

// Sets spdlog's default logger to stderr with "[level] message" lines ("[info] site oslo:
// bundle sha256:ab.. queued"), plus an ISO time when stderr is not a journal
// (JOURNAL_STREAM unset). `verbose` enables debug lines.
void InitDaemonLogging(bool verbose);

}  // namespace outpost::link
