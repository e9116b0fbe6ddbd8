#include "registry/register.h"

#include <cstdlib>
#include <string>

#include "registry/registry_store.h"

namespace outpost::registry {

void Register() {
  storage::RegisterRegistryOpener([](const storage::Reference& ref, const storage::StoreOptions& options) {
    ClientOptions client;
    if (const char* chunk = std::getenv("OUTPOST_REGISTRY_CHUNK_BYTES")) {
      client.chunk_size = std::stoul(chunk);
    }
    return std::make_unique<RegistryStore>(ref.host(), ref.repository(), options, client);
  });
}

}  // namespace outpost::registry
