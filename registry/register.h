// Plugs the registry store into storage::OpenStore for docker:// references.
#pragma once

namespace outpost::registry {

// Registers the docker:// opener (storage::RegisterRegistryOpener). Call once from main().
// OUTPOST_REGISTRY_CHUNK_BYTES overrides the upload chunk size (tests use small chunks).
void Register();

}  // namespace outpost::registry
