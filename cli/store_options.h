// What the commands that open stores share: the registry options (--creds, --authfile,
// --cert-dir, --tls-verify; file stores ignore them) and the hand-over to main(), which builds
// the one store factory of the process from them once parsing is done.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>

#include "registry/auth.h"
#include "registry/client.h"
#include "storage/image_store.h"

namespace outpost::cli {

// What parsing leaves for main() when the command given opens stores: the registry options it
// was given, and the command itself, to run with the factory main builds from them.
struct StoreCommand {
  registry::AccessOptions access;
  std::function<void(storage::StoreFactory& stores)> run;  // empty until such a command is parsed
};

// Adds the store options to `cmd`, writing into `opts` (which must outlive parsing).
void AddStoreOptions(CLI::App* cmd, registry::AccessOptions* opts);

// The registry client settings of the CLI: the defaults, with the upload chunk size taken from
// $OUTPOST_REGISTRY_CHUNK_BYTES when set (tests use small chunks). Throws InvalidArgument when
// that is not a number of bytes from 1 to 1 GiB.
registry::ClientOptions RegistryClientOptions();

}  // namespace outpost::cli
