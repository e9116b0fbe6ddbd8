// The options every command that opens a store shares: how to reach and authenticate to a
// registry (--creds, --authfile, --cert-dir, --tls-verify). File stores ignore them.
#pragma once

#include <CLI/CLI.hpp>

#include "storage/image_store.h"

namespace outpost::cli {

// Adds the store options to `cmd`, writing into `opts` (which must outlive parsing).
void AddStoreOptions(CLI::App* cmd, storage::StoreOptions* opts);

}  // namespace outpost::cli
