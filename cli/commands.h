// The `outpost` subcommands. Each Add*Command registers one subcommand (its options, its --help
// text with an example, and the callback that runs it) on `app`. Callbacks throw outpost::Error
// on failure; main() turns that into one line on stderr and the error's exit code.
#pragma once

#include <CLI/CLI.hpp>

namespace outpost::cli {

// Text shown under every command's --help: where to read more.
inline constexpr const char* kFooter = "Docs: README.md and docs/ in the outpost source tree.";

// `outpost inspect REF`: digests, layers and verification of an image or index.
void AddInspectCommand(CLI::App& app);
// `outpost copy SRC DST`: copy an image or index between stores.
void AddCopyCommand(CLI::App& app);

}  // namespace outpost::cli
