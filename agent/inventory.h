// What the site's target holds, reported to the hub (PUT /v1/inventory, docs/protocol.md) so it
// plans bundles against exactly that.
#pragma once

#include <map>
#include <set>
#include <string>

#include "agent/agent_config.h"
#include "registry/store_factory.h"

namespace outpost::agent {

struct Inventory {
  std::map<std::string, std::string> images;  // "REPO:TAG" (a file store: its tag) -> manifest digest
  std::set<std::string> blobs;                // config and layer digests those manifests name
};

// Lists the target: a registry's catalog (every repository, every tag) or a file store's tags,
// reading each manifest. Blocking (registry requests). Throws what the stores throw.
Inventory TakeInventory(const AgentConfig& config, registry::RegistryStoreFactory& stores);

// The request body: {"images": {...}, "blobs": [...], "signatures": 1}, the last member saying
// which image-signature version this agent sends when the hub asks for one. When it would exceed
// link::kMaxInventoryBytes the blobs are left out (the hub plans by manifest digests).
std::string InventoryBody(const Inventory& inventory);

}  // namespace outpost::agent
