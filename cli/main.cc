// outpost: wires the subcommands together. Nothing else lives here.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <exception>

#include "cli/commands.h"
#include "common/error.h"
#include "common/version.h"
#include "registry/store_factory.h"

int main(int argc, char** argv) {
  CLI::App app{"outpost: ship container image updates to remote sites as tiny, exact deltas."};
  app.set_version_flag("--version", outpost::kVersion);
  app.require_subcommand(1);
  app.footer(outpost::cli::kFooter);
  outpost::cli::StoreCommand store_command;
  outpost::cli::AddInspectCommand(app, store_command);
  outpost::cli::AddCopyCommand(app, store_command);
  outpost::cli::AddKeygenCommand(app);
  outpost::cli::AddDiffCommand(app, store_command);
  outpost::cli::AddApplyCommand(app, store_command);
  outpost::cli::AddSignatureCommand(app, store_command);
  outpost::cli::AddLayerCommand(app);
  try {
    app.parse(argc, argv);
    if (store_command.run) {
      // The process's one store factory: every store the command opens comes from it.
      outpost::registry::RegistryStoreFactory stores(store_command.access, outpost::cli::RegistryClientOptions());
      store_command.run(stores);
    }
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
