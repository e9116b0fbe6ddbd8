// The apply pipeline (`outpost apply`): rebuilds a bundle's target image from the bases the far
// side holds and writes it into the target store.
//
// Order of work, so that a failure leaves the target store exactly as it was:
//   1. the signature (with a verify key: required and checked; without: a warning is reported
//      and the digests below are still checked), the expected target, every chunk's sha256;
//   2. the manifest and config from the bundle, checked against the header;
//   3. each base found in the --base stores by blob digest or diffID (a docker-archive holds
//      uncompressed layers: there its digest is the diffID), spooled uncompressed to a scratch
//      file for random access;
//   4. every layer rebuilt into a staging directory (delta -> tar -> recipe -> blob), its
//      diffID and blob digest checked, its tar paths checked for escapes; two layers at a time
//      (one recompressing while another is verified), and if any fails, nothing is published;
//   5. only then the target store is opened: blobs first, config, manifest and tag last.
// A docker-archive target receives the uncompressed tars (what `docker load` reads) and a
// manifest naming them; its config, and so the Docker image ID, is the target's.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "common/digest.h"
#include "sync/image_source.h"
#include "sync/progress.h"
#include "protocol/signing.h"
#include "storage/image_store.h"

namespace outpost::sync {

struct ApplyOptions {
  std::filesystem::path bundle;
  std::vector<storage::Reference> bases;            // what this site holds
  storage::Reference into;                          // where the target goes
  const protocol::SigningKey* verify_key = nullptr; // required signer, when set
  std::optional<Digest> expect;                     // the target manifest the operator expects
  // Opens every store named here (registries too, when it can); it must outlive the call.
  // nullptr: file stores only (storage::FileStoreFactory).
  storage::StoreFactory* stores = nullptr;
  std::filesystem::path scratch = DefaultScratchDir();
  sync::Progress* progress = nullptr;                // nullptr: quiet
  // Put before the tags of the bundle's carried documents (sync/carry.h): "REPO:" for a file
  // store whose tags are "REPO:TAG", "" for a registry repository.
  std::string carried_tag_prefix;
};

struct ApplyReport {
  Digest manifest;      // as written (the bundle's target, or the rewritten docker-archive one)
  Digest config;        // the image ID
  std::string tag;      // the tag written ("" for none)
  std::vector<std::string> warnings;  // e.g. the signature was not checked
  // Bytes staged on disk before publishing (bases spooled, layers rebuilt; each distinct base
  // and layer once): the scratch space apply needed at its peak.
  uint64_t staged_bytes = 0;
};

// Throws Security (signature, unsafe paths), Corruption (damaged bundle, digest mismatch),
// NotFound (a base no --base store holds), InvalidArgument (a target other than expected),
// and the store's errors. On any throw the target store is left as it was.
ApplyReport Apply(const ApplyOptions& options);

}  // namespace outpost::sync
