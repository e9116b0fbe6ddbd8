#include "registry/store_factory.h"

#include <utility>

namespace outpost::registry {

RegistryStoreFactory::RegistryStoreFactory(AccessOptions access, ClientOptions client)
    : access_(std::move(access)), client_(client) {}

RegistryStoreFactory::~RegistryStoreFactory() = default;

std::unique_ptr<storage::ImageStore> RegistryStoreFactory::Open(const storage::Reference& ref, bool for_write) {
  if (ref.transport != storage::Reference::Transport::kDocker) return files_.Open(ref, for_write);
  return OpenRepository(ref.host(), ref.repository());
}

std::unique_ptr<RegistryStore> RegistryStoreFactory::OpenRepository(const std::string& host,
                                                                     const std::string& repository) {
  std::lock_guard lock(mu_);
  std::unique_ptr<RegistryClient>& session = sessions_[host];
  if (!session) session = std::make_unique<RegistryClient>(host, access_, client_);
  return std::make_unique<RegistryStore>(repository, session->Fork(), sources_);
}

}  // namespace outpost::registry
