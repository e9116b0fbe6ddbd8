// The store factory a process that talks to registries builds once (cli/main.cc; each daemon
// its own) and passes to whatever opens stores: it opens docker:// references as RegistryStores
// and file references as storage::FileStoreFactory does, and keeps what is worth keeping across
// the stores it opens.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "registry/auth.h"
#include "registry/client.h"
#include "registry/registry_store.h"
#include "storage/image_store.h"

namespace outpost::registry {

class RegistryStoreFactory : public storage::StoreFactory {
 public:
  // Every registry is reached with `access` (credentials, TLS) and `client` (timeouts, retries,
  // chunk size). Credentials are looked up when a registry's first store is opened; nothing is
  // sent before that store is used.
  explicit RegistryStoreFactory(AccessOptions access, ClientOptions client = {});
  ~RegistryStoreFactory() override;

  // docker:// references open a RegistryStore (OpenRepository); others a file store.
  std::unique_ptr<storage::ImageStore> Open(const storage::Reference& ref, bool for_write) override;

  // The store for `repository` on registry `host` ("name[:port]"). Stores of one host share a
  // session (its credentials, looked up once, the http/https decision and the token cache),
  // each with connections of its own; stores of every host share the record of which
  // repositories hold which blobs, so a copy between repositories of one registry mounts blobs
  // instead of uploading them. Thread-safe.
  std::unique_ptr<RegistryStore> OpenRepository(const std::string& host, const std::string& repository);

 private:
  AccessOptions access_;
  ClientOptions client_;
  storage::FileStoreFactory files_;
  std::shared_ptr<BlobSources> sources_ = std::make_shared<BlobSources>();
  std::mutex mu_;
  std::map<std::string, std::unique_ptr<RegistryClient>> sessions_;  // by host
};

}  // namespace outpost::registry
