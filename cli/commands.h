// The `outpost` subcommands. Each Add*Command registers one subcommand (its options, its --help
// text with an example, and what runs it) on `app`. Commands that open stores leave their run in
// `command` (with their registry options) for main(), which runs it with the store factory it
// builds; the others run in their callback. Both throw outpost::Error on failure; main() turns
// that into one line on stderr and the error's exit code.
#pragma once

#include <CLI/CLI.hpp>

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
// `outpost hub`: the hub daemon; `outpost hub enqueue`: queue a bundle for a site.
void AddHubCommand(CLI::App& app);
// `outpost agent --config FILE`: the site's daemon (cli/agent_command.cc).
void AddAgentCommand(CLI::App& app);
// Sneakernet (cli/sneakernet_command.cc): `hub export`, `hub import-report` on the hub command;
// `agent import`, `agent report` on the agent command.
void AddHubSneakernetCommands(CLI::App& hub_cmd);
void AddAgentSneakernetCommands(CLI::App& agent_cmd);

}  // namespace outpost::cli
