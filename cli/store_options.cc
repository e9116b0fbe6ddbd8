#include "cli/store_options.h"

#include <cstdlib>
#include <string>

#include "common/error.h"

namespace outpost::cli {

void AddStoreOptions(CLI::App* cmd, registry::AccessOptions* opts) {
  cmd->add_option("--creds", opts->creds, "Registry credentials USER:PASS");
  cmd->add_option("--authfile", opts->authfile, "Docker-style auth file (config.json) with registry credentials");
  cmd->add_option("--cert-dir", opts->cert_dir, "Directory of CA certificates (*.crt) and client certs (*.cert, *.key)");
  cmd->add_option_function<bool>(
      "--tls-verify", [opts](const bool& v) { opts->tls_verify = v; },
      "Verify registry TLS certificates (default: true; plain HTTP only to loopback)");
}

registry::ClientOptions RegistryClientOptions() {
  constexpr uint64_t kLargestChunk = 1 << 30;  // one chunk is held in memory
  registry::ClientOptions client;
  const char* env = std::getenv("OUTPOST_REGISTRY_CHUNK_BYTES");
  if (env == nullptr) return client;
  std::string text = env;
  uint64_t bytes = 0;
  bool valid = !text.empty() && text.size() <= 10;
  for (char c : text) {
    valid = valid && c >= '0' && c <= '9';
    if (valid) bytes = bytes * 10 + static_cast<uint64_t>(c - '0');
  }
  if (!valid || bytes == 0 || bytes > kLargestChunk) {
    throw InvalidArgument("OUTPOST_REGISTRY_CHUNK_BYTES must be a number of bytes from 1 to ",
                          std::to_string(kLargestChunk), ", not \"", text, "\"");
  }
  client.chunk_size = static_cast<size_t>(bytes);
  return client;
}

}  // namespace outpost::cli
