#include "cli/store_options.h"

namespace outpost::cli {

void AddStoreOptions(CLI::App* cmd, storage::StoreOptions* opts) {
  cmd->add_option("--creds", opts->creds, "Registry credentials USER:PASS");
  cmd->add_option("--authfile", opts->authfile, "Docker-style auth file (config.json) with registry credentials");
  cmd->add_option("--cert-dir", opts->cert_dir, "Directory of CA certificates (*.crt) and client certs (*.cert, *.key)");
  cmd->add_option_function<bool>(
      "--tls-verify", [opts](const bool& v) { opts->tls_verify = v; },
      "Verify registry TLS certificates (default: true; plain HTTP only to loopback)");
}

}  // namespace outpost::cli
