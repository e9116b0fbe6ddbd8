// The diff pipeline (`outpost diff`): plans, encodes, proves and writes a bundle that turns the
// images the far side holds into the target image.
//
// Per target layer the planner takes the smallest of: present (the far side holds the blob, or
// only its tar, as a docker-archive --from, and the recipe rebuilds the blob), recipe + tar delta against the most similar base
// layer (TarIndex similarity across every --from layer), raw delta of the blob against a base
// blob (no recipe), or the whole blob. Before the bundle is written every layer is rebuilt from
// the exact payload bytes that ship: a layer shipped as a tar must give its diffID (its recipe
// was proven on the whole blob by the probe, or earlier and kept in the recipe cache), a blob
// shipped as bytes must give its digest; a choice that fails its proof falls back to the next. A layer's recipe is probed on a
// second thread while its delta is encoded. Layers stream through scratch files: memory stays
// bounded whatever the layer size.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "delta/layer_delta.h"
#include "sync/carry.h"
#include "sync/delta_cache.h"
#include "sync/image_source.h"
#include "sync/progress.h"
#include "protocol/bundle.h"
#include "protocol/signing.h"
#include "storage/image_store.h"

namespace outpost::sync {

struct DiffOptions {
  std::vector<storage::Reference> from;  // what the far side holds
  // Signature mode: instead of (or besides) `from`, the far side's image signature
  // (`outpost signature`). Deltas against it are proven only as far as the hub can: the recipe
  // on the target's own tar; the delta itself is checked by the far side's digests.
  std::filesystem::path from_signature;
  storage::Reference to;                 // the target image
  std::filesystem::path output;          // the bundle file
  const protocol::SigningKey* sign_key = nullptr;  // signs the bundle when set
  // Opens every store named here (registries too, when it can); it must outlive the call.
  // nullptr: file stores only (storage::FileStoreFactory).
  storage::StoreFactory* stores = nullptr;
  std::filesystem::path scratch = DefaultScratchDir();
  Progress* progress = nullptr;  // nullptr: quiet
  delta::EncodeOptions delta_options;
  // Where proven recipes and tar indexes are kept across runs (LayerCache); empty: probe and
  // index every layer afresh.
  std::filesystem::path cache;
  // Manifests carried along whole and published after the target (sync/carry.h): the target's
  // cosign-style signatures, its multi-platform index. None: nothing carried.
  std::vector<Carry> carry;
  // Where tar and raw deltas are kept across runs, by (base, target, method, encoder options);
  // nullptr: every delta is encoded afresh. The bundle's bytes are the same either way. Must
  // outlive the call.
  DeltaCache* delta_cache = nullptr;
};

struct LayerReport {
  Digest digest;
  protocol::Method method = protocol::Method::kWhole;
  uint64_t blob_bytes = 0;
  uint64_t payload_bytes = 0;
  std::string note;  // why (e.g. "no recipe: ...", "proof failed: ...")
};

struct DiffReport {
  Digest manifest;
  uint64_t bundle_bytes = 0;
  uint64_t registry_bytes = 0;  // what a registry would ship for the same update
  std::vector<LayerReport> layers;
  std::vector<std::string> warnings;  // nothing failed, but an operator should know (cache)
  uint64_t delta_cache_hits = 0;    // deltas read from DiffOptions::delta_cache
  uint64_t delta_cache_misses = 0;  // deltas encoded (and stored) because it had none
};

// Writes the bundle to options.output (atomically). Throws what the stores throw, Corruption for
// inconsistent images, IOError; on failure no bundle file appears.
DiffReport Diff(const DiffOptions& options);

// "bundle 1.20 MB vs 115.10 MB from a registry (1.0%)": the one-line summary.
std::string SummaryLine(uint64_t bundle_bytes, uint64_t registry_bytes);

}  // namespace outpost::sync
