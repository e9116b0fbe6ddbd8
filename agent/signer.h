// The signature of an image the site holds and the hub no longer does (docs/protocol.md,
// `PUT /v1/signatures/DIGEST`): the hub diffs the next version against it.
#pragma once

#include <string>

#include "agent/agent_config.h"
#include "agent/wire.h"
#include "storage/image_store.h"

namespace outpost::agent {

// The target's image `wanted.image` at `wanted.manifest`, read by digest (a tag moved since
// the inventory does not matter), signed layer by layer: the bytes of its image block-signature
// file (`outpost signature`'s format, docs/bundle-format.md). Blocking; spools each layer's tar
// under STATE_DIR/scratch. Throws what the stores throw (NotFound when the image is gone),
// Unsupported for a signature over link::kMaxSignatureBytes.
std::string SignTargetImage(const AgentConfig& config, storage::StoreFactory& stores, const SignatureWanted& wanted);

}  // namespace outpost::agent
