// outpost: wires the subcommands together. Nothing else lives here.
#include <CLI/CLI.hpp>
#include <signal.h>

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <optional>
#include <string_view>
#include <thread>

#include "cli/commands.h"
#include "common/error.h"
#include "common/file.h"
#include "common/version.h"
#include "registry/store_factory.h"

namespace {

// Every scratch file of one run lives under one directory (TMPDIR points there, so each
// TempDir the commands make is inside it). SIGINT and SIGTERM are blocked in every thread and
// taken by one thread with sigwait, which is ordinary code, not a signal handler: it removes
// the directory and exits with 128 + the signal, so an interrupted apply leaves no scratch.
class RunScratch {
 public:
  // Signals are blocked before the directory exists (so none can leave it behind) and before
  // any thread starts (so all inherit the mask); one arriving early waits for the sigwait.
  RunScratch() : signals_(BlockSignals()), dir_(std::filesystem::temp_directory_path(), "outpost-run-") {
    ::setenv("TMPDIR", dir_.path().c_str(), 1);
    std::thread([path = dir_.path(), signals = signals_] {
      int sig = 0;
      if (sigwait(&signals, &sig) != 0) return;
      std::error_code ignored;
      std::filesystem::remove_all(path, ignored);
      std::fprintf(stderr, "outpost: interrupted (signal %d); scratch files removed\n", sig);
      std::_Exit(128 + sig);
    }).detach();
  }

 private:
  static sigset_t BlockSignals() {
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGINT);
    sigaddset(&s, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &s, nullptr);
    return s;
  }

  sigset_t signals_;
  outpost::TempDir dir_;
};

// The daemons stop on SIGINT and SIGTERM themselves (ending their connections, exit 0), so they
// run without the scratch directory and its signal thread.
bool IsDaemon(int argc, char** argv) {
  return argc > 1 && (std::string_view(argv[1]) == "hub" || std::string_view(argv[1]) == "agent");
}

}  // namespace

int main(int argc, char** argv) {
  std::optional<RunScratch> scratch;
  try {
    if (!IsDaemon(argc, argv)) scratch.emplace();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "outpost: error: cannot create a scratch directory (check TMPDIR): %s\n", e.what());
    return 6;
  }
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
  outpost::cli::AddPkiCommand(app);
  outpost::cli::AddHubCommand(app);
  outpost::cli::AddAgentCommand(app);
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
