// outpost: wires the subcommands together. Nothing else lives here.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <exception>

#include "cli/commands.h"
#include "common/error.h"
#include "common/version.h"
#include "registry/register.h"

int main(int argc, char** argv) {
  CLI::App app{"outpost: ship container image updates to remote sites as tiny, exact deltas."};
  app.set_version_flag("--version", outpost::kVersion);
  app.require_subcommand(1);
  app.footer(outpost::cli::kFooter);
  outpost::registry::Register();
  outpost::cli::AddInspectCommand(app);
  outpost::cli::AddCopyCommand(app);
  outpost::cli::AddKeygenCommand(app);
  outpost::cli::AddDiffCommand(app);
  outpost::cli::AddApplyCommand(app);
  outpost::cli::AddSignatureCommand(app);
  outpost::cli::AddLayerCommand(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const outpost::Error& e) {
    std::fprintf(stderr, "outpost: error: %s\n", e.what());
    return e.exit_code();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "outpost: internal error: %s\n", e.what());
    return 1;
  }
  return 0;
}
