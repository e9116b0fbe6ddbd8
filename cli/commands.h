// The `outpost` subcommands. Each Add*Command registers one subcommand (its options, its --help
// text with an example, and what runs it) on `app`. Commands that open stores leave their run in
// `command` (with their registry options) for main(), which runs it with the store factory it
// builds; the others run in their callback. Both throw outpost::Error on failure; main() turns
// that into one line on stderr and the error's exit code.
#pragma once

#include <CLI/CLI.hpp>

#include <atomic>
#include <stop_token>

#include "cli/store_options.h"

namespace outpost::cli {

// Text shown under every command's --help: where to read more.
inline constexpr const char* kFooter = "Docs: README.md and docs/ in the outpost source tree.";

// `outpost inspect REF`: digests, layers and verification of an image or index.
void AddInspectCommand(CLI::App& app, StoreCommand& command);
// `outpost copy SRC DST`: copy an image or index between stores.
void AddCopyCommand(CLI::App& app, StoreCommand& command);
// Bundles (diff_command.cc, apply_command.cc, keygen_command.cc).
void AddKeygenCommand(CLI::App& app);
void AddDiffCommand(CLI::App& app, StoreCommand& command);
void AddApplyCommand(CLI::App& app, StoreCommand& command);
void AddSignatureCommand(CLI::App& app, StoreCommand& command);
void AddLayerCommand(CLI::App& app);  // layer probe | layer rebuild (cli/layer_command.cc)
// `outpost pki init DIR` | `outpost pki issue DIR NAME`: the hub–agent TLS CA (cli/pki_command.cc).
void AddPkiCommand(CLI::App& app);
// `outpost agent --config FILE`: the site's daemon (cli/agent_command.cc).
void AddAgentCommand(CLI::App& app);

// SIGINT and SIGTERM: main() takes both on one thread. A one-shot command is ended at once
// (scratch removed, exit 128 + signal); a daemon calls ClaimStopSignals() before it runs and
// is then asked to stop through the token it gets, and exits on its own (0).
namespace detail {
inline std::atomic<bool> daemon_claimed_signals{false};
inline std::stop_source daemon_stop;
}  // namespace detail
inline std::stop_token ClaimStopSignals() {
  detail::daemon_claimed_signals = true;
  return detail::daemon_stop.get_token();
}
// main()'s side: when a daemon claimed the signals, requests its stop and returns true.
inline bool ForwardStopSignal() {
  if (!detail::daemon_claimed_signals) return false;
  detail::daemon_stop.request_stop();
  return true;
}

}  // namespace outpost::cli
