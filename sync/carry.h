// Small documents carried along with a bundle's target (docs/bundle-format.md, "Carried
// documents"): cosign-style signature, attestation and SBOM manifests with their blobs, and the
// multi-platform index the target belongs to. They ship whole and are published after the
// target, so signature checks at the far side keep working.
#pragma once

#include <string>
#include <vector>

#include "protocol/bundle.h"
#include "protocol/bundle_file.h"
#include "storage/image_store.h"

namespace outpost::sync {

// One manifest (or index) to carry: where it is (a reference with its digest) and the tag the
// far side points at it ("" for none).
struct Carry {
  storage::Reference manifest;
  std::string tag;
};

// The largest blob carried whole: signatures, attestations and SBOMs are far smaller.
inline constexpr int64_t kMaxCarriedBlobBytes = 16 << 20;

// Reads each carried manifest and, for a manifest, every blob it names (an index's manifests are
// not carried: the far side gets them as targets of their own), appends them to `writer`'s payload
// and returns their header entries: blobs (each once) first, then the manifests in `carry` order.
// Throws what the stores throw, Corruption when a blob does not match its descriptor, and
// Unsupported for a blob over kMaxCarriedBlobBytes.
std::vector<protocol::CarriedDocument> AppendCarried(const std::vector<Carry>& carry, storage::StoreFactory* stores,
                                                     protocol::BundleWriter& writer);

// Publishes `bundle`'s carried documents into `store`: blobs it lacks, then each manifest with
// its tag prefixed by `tag_prefix` ("REPO:" in a file store that holds several repositories). An
// index is published only when `store` holds every manifest it names; otherwise it is left out
// and a warning saying which manifest is missing is returned. Throws Corruption for a document
// that does not match its entry, and what the store throws.
std::vector<std::string> PublishCarried(const protocol::BundleReader& bundle, storage::ImageStore& store,
                                        const std::string& tag_prefix);

}  // namespace outpost::sync
