// Applying a complete spool into the site's target (sync::Apply), off the io thread.
#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include "agent/agent_config.h"
#include "protocol/signing.h"
#include "storage/image_store.h"

namespace outpost::agent {

// Where a bundle goes: the configured target, with
//   - `as` ("REPO:TAG", from the work list): docker://HOST/REPO:TAG on the target's registry,
//     or the file store with tag REPO:TAG;
//   - otherwise the target as configured (sync::Apply takes the tag the bundle names when the
//     target has none); a registry-only target takes repository and tag from the bundle's
//     target reference, which must then be a docker:// one.
// Throws InvalidArgument naming the bundle when no repository can be found.
// `as` may also be "REPO@sha256:<hex>" (a platform manifest of a multi-platform index, published
// by digest without a tag): docker://HOST/REPO@DIGEST, or the file store at that digest.
storage::Reference IntoReference(const AgentConfig& config, const std::string& bundle_target, const std::string& as);

// What the tags of a bundle's carried documents get before them at this site: "REPO:" of `as`
// in a file store (whose tags are "REPO:TAG"), else "".
std::string CarriedTagPrefix(const AgentConfig& config, const std::string& as);

struct ApplyOutcome {
  bool applied = false;
  std::string manifest;  // applied: sha256 of the manifest published
  std::string tag;       // applied: the tag written
  std::string error;     // failed: the message
};

// What one apply needs, owned, so a worker thread can outlive the io loop that started it.
struct ApplyJob {
  AgentConfig config;
  std::filesystem::path spool;
  std::string what;                                    // names the transfer in messages
  std::string as;
  std::shared_ptr<const protocol::SigningKey> verify_key;  // null: none
  std::shared_ptr<storage::StoreFactory> stores;
};

// Runs sync::Apply (bases = every image the target store holds, scratch under STATE_DIR/scratch) and turns an Error
// into a failed outcome with its message. Never throws.
ApplyOutcome ApplyBundle(const ApplyJob& job);

}  // namespace outpost::agent
