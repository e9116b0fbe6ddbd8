// Daemon logging (log.h).
#include "link/log.h"

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <cstdlib>

namespace outpost::link {

void InitDaemonLogging(bool verbose) {
  auto logger = std::make_shared<spdlog::logger>("outpost", std::make_shared<spdlog::sinks::stderr_sink_mt>());
  bool journal = std::getenv("JOURNAL_STREAM") != nullptr;
  logger->set_pattern(journal ? "[%l] %v" : "%Y-%m-%dT%H:%M:%S.%eZ [%l] %v", spdlog::pattern_time_type::utc);
  logger->set_level(verbose ? spdlog::level::debug : spdlog::level::info);
  logger->flush_on(spdlog::level::trace);
  spdlog::set_default_logger(std::move(logger));
}

}  // namespace outpost::link
