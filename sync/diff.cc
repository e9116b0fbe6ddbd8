#include "sync/diff.h"

#include <algorithm>
#include <cstdio>
#include <functional>
#include <future>
#include <memory>
#include <optional>

#include "common/error.h"
#include "common/file.h"
#include "common/version.h"
#include "compress/decompress.h"
#include "compress/zstd.h"
#include "sync/image_signature.h"
#include "sync/image_source.h"
#include "sync/layer_codec.h"
#include "sync/layer_rebuild.h"
#include "sync/layer_cache.h"
#include "protocol/bundle_file.h"
#include "protocol/bundle_printer.h"

namespace outpost::sync {
namespace {

using protocol::Method;

// zstd level for uncompressed layers shipped whole: a good ratio at well over 10 MB/s.
constexpr int kWholeZstdLevel = 9;

// A layer the far side holds; its tar, blob and index are spooled on first use.
struct BaseCandidate {
  const LayerRef* layer = nullptr;
  const delta::BlockSignature* signature = nullptr;  // signature mode: no bytes, only this
  std::unique_ptr<SpooledLayer> spool;  // made on first use
  std::optional<delta::TarIndex> index;
  bool index_failed = false;
  std::optional<size_t> header_index;
  bool kept = false;  // the target keeps this very blob
};

// One way to ship a layer, encoded into a scratch file it owns (or, for a compressed whole blob,
// the spooled blob itself).
struct Candidate {
  Method method = Method::kWhole;
  BaseCandidate* base = nullptr;
  std::filesystem::path file;
  uint64_t bytes = 0;
  protocol::Encoding encoding = protocol::Encoding::kRaw;
  std::shared_ptr<ScratchFile> owned;
};

// The target layer spooled to scratch: its blob, and its tar when a recipe probe needs one as a
// file (the blob itself when uncompressed); otherwise the tar is read by uncompressing the blob.
struct TargetFiles {
  std::unique_ptr<ScratchFile> blob;
  std::unique_ptr<ScratchFile> tar;
  image::Compression compression = image::Compression::kNone;
  const std::filesystem::path& tar_path() const { return tar ? tar->path() : blob->path(); }
  std::unique_ptr<Reader> OpenTar() const {
    auto file = std::make_unique<FileReader>(tar_path());
    if (tar || compression == image::Compression::kNone) return file;
    return compress::OpenDecompressed(std::move(file), compression, "spooled target blob");
  }
};

// A target layer's recipe: known (cached, or empty for an uncompressed layer), or being probed
// on a second thread while the delta is encoded. Destroying it waits for the probe.
struct PendingRecipe {
  std::optional<std::string> known;
  std::future<RecipeResult> probe;
};

class Planner {
 public:
  explicit Planner(const DiffOptions& options)
      : o_(options), scratch_(options.scratch, "outpost-diff-"), writer_(scratch_.path()), cache_(options.cache) {}

  DiffReport Run();

 private:
  void LoadBases();
  BaseCandidate* FindByDigest(const Digest& d);
  BaseCandidate* FindByDiffId(const Digest& d);
  SpooledLayer& Spool(BaseCandidate& b);
  const delta::TarIndex* BaseIndex(BaseCandidate& b);
  // The index of the tar `diff_id`: from the cache, else built from `open_tar` and cached.
  // Throws what TarIndex::Build throws.
  delta::TarIndex IndexOf(const Digest& diff_id, const std::function<std::unique_ptr<Reader>()>& open_tar);
  // Runs a cache store; a failure only costs time next run, so it becomes a warning.
  void Remember(const std::function<void()>& store);
  BaseCandidate* MostSimilar(const delta::TarIndex& target);
  size_t UseBase(BaseCandidate& b);
  protocol::LayerEntry PlanLayer(size_t i, LayerReport* report);
  std::vector<Candidate> Candidates(const LayerRef& t, const TargetFiles& files, std::optional<std::string> known,
                                    protocol::LayerEntry* entry, LayerReport* report);
  void ShipFirstProven(const std::vector<Candidate>& candidates, protocol::LayerEntry* entry, LayerReport* report);
  std::optional<std::string> KnownRecipe(const LayerRef& t);
  PendingRecipe StartRecipe(const LayerRef& t, const TargetFiles& files, std::optional<std::string> known);
  std::optional<std::string> FinishRecipe(const LayerRef& t, PendingRecipe& pending, LayerReport* report);
  TargetFiles SpoolTarget(const LayerRef& t, bool with_tar);
  BaseCandidate* BestBase(const LayerRef& t, const TargetFiles& files, std::optional<delta::TarIndex>* index);
  Candidate EncodeWhole(const LayerRef& t, const TargetFiles& files);
  Candidate EncodeTarDelta(const LayerRef& t, const TargetFiles& files, const delta::TarIndex& index,
                           BaseCandidate& base);
  Candidate EncodeRawDelta(const TargetFiles& files, BaseCandidate& base);
  Candidate CachedDelta(Method method, const LayerRef& t, BaseCandidate& base, const std::function<Candidate()>& encode);
  void Ship(const Candidate& c, protocol::LayerEntry* entry);
  void Prove(const protocol::LayerEntry& entry, BaseCandidate* base);
  Progress& progress() { return o_.progress ? *o_.progress : null_progress_; }

  const DiffOptions& o_;
  TempDir scratch_;
  protocol::BundleWriter writer_;
  std::vector<LoadedImage> from_;
  LoadedImage to_;
  std::vector<BaseCandidate> bases_;
  ImageBlockSignature signature_;
  std::vector<LayerRef> signed_layers_;
  protocol::Header header_;
  NullProgress null_progress_;
  LayerCache cache_;
  std::vector<std::string> warnings_;
  uint64_t delta_cache_hits_ = 0;
  uint64_t delta_cache_misses_ = 0;
  int scratch_counter_ = 0;

  std::filesystem::path NewScratch(const char* name) {
    return scratch_.path() / (std::string(name) + "-" + std::to_string(scratch_counter_++));
  }
};

void Planner::LoadBases() {
  if (!o_.from_signature.empty()) {
    signature_ = ImageBlockSignature::Load(o_.from_signature);
    for (const LayerBlockSignature& l : signature_.layers) {
      image::Descriptor d;
      d.media_type = l.media_type;
      d.digest = l.digest;
      d.size = static_cast<int64_t>(l.size);
      signed_layers_.push_back({nullptr, d, l.diff_id, image::LayerCompression(l.media_type)});
    }
    for (size_t i = 0; i < signed_layers_.size(); ++i) {
      bases_.emplace_back();
      bases_.back().layer = &signed_layers_[i];
      bases_.back().signature = &signature_.layers[i].signature;
    }
  }
  for (const storage::Reference& ref : o_.from) from_.push_back(LoadImage(ref, o_.stores));
  for (const LoadedImage& img : from_) {
    for (const LayerRef& l : img.layers) {
      if (FindByDigest(l.desc.digest)) continue;
      bases_.emplace_back();
      bases_.back().layer = &l;
    }
  }
}

BaseCandidate* Planner::FindByDigest(const Digest& d) {
  for (BaseCandidate& b : bases_) {
    if (b.layer->desc.digest == d) return &b;
  }
  return nullptr;
}

BaseCandidate* Planner::FindByDiffId(const Digest& d) {
  for (BaseCandidate& b : bases_) {
    if (b.layer->diff_id == d) return &b;
  }
  return nullptr;
}

SpooledLayer& Planner::Spool(BaseCandidate& b) {
  if (!b.spool) b.spool = std::make_unique<SpooledLayer>(*b.layer, NewScratch("base"));
  return *b.spool;
}

const delta::TarIndex* Planner::BaseIndex(BaseCandidate& b) {
  if (b.signature) return &b.signature->index;
  if (!b.index && !b.index_failed) {
    try {
      b.index = IndexOf(b.layer->diff_id, [&]() -> std::unique_ptr<Reader> {
        const RandomAccess& tar = Spool(b).Tar();
        return std::make_unique<RandomAccessReader>(tar, 0, tar.size());
      });
    } catch (const Error& e) {
      if (e.kind() != Error::Kind::kCorruption) throw;
      b.index_failed = true;  // not a tar: never a tar-delta base
    }
  }
  return b.index ? &*b.index : nullptr;
}

delta::TarIndex Planner::IndexOf(const Digest& diff_id, const std::function<std::unique_ptr<Reader>()>& open_tar) {
  if (std::optional<delta::TarIndex> cached = cache_.FindIndex(diff_id)) return std::move(*cached);
  std::unique_ptr<Reader> tar = open_tar();
  delta::TarIndex index = delta::TarIndex::Build(*tar);
  Remember([&] { cache_.StoreIndex(index); });
  return index;
}

void Planner::Remember(const std::function<void()>& store) {
  try {
    store();
  } catch (const Error& e) {
    warnings_.push_back(std::string("cache not updated: ") + e.what());
  }
}

// The base sharing most of `target`. Layers the target keeps are scored (indexed, at the cost of
// decompressing them) only when no other base supplies half of the target: an updated layer's
// best base is nearly always its own previous version, but a layer added on top of a kept one
// (an `apt-get upgrade` layer) is best encoded against the kept layer.
BaseCandidate* Planner::MostSimilar(const delta::TarIndex& target) {
  constexpr double kGoodEnough = 0.5;
  BaseCandidate* best = nullptr;
  double best_score = 0;
  for (bool kept : {false, true}) {
    if (kept && best_score >= kGoodEnough) break;
    for (BaseCandidate& b : bases_) {
      const delta::TarIndex* index = b.kept == kept ? BaseIndex(b) : nullptr;
      double score = index ? delta::Similarity(*index, target) : 0;
      if (score > best_score) {
        best_score = score;
        best = &b;
      }
    }
  }
  return best;
}

size_t Planner::UseBase(BaseCandidate& b) {
  if (!b.header_index) {
    b.header_index = header_.bases.size();
    header_.bases.push_back({b.layer->desc.digest, b.layer->diff_id, static_cast<uint64_t>(b.layer->desc.size)});
  }
  return *b.header_index;
}

// Spools the target's blob (checking its digest) and, `with_tar`, its tar (checking its diffID).
// Without the tar, the diffID is taken from a cached recipe, proven on this very blob: the tar
// is the blob uncompressed, and every tar rebuilt from a delta is checked against the diffID.
TargetFiles Planner::SpoolTarget(const LayerRef& t, bool with_tar) {
  TargetFiles files;
  files.compression = t.compression;
  files.blob = std::make_unique<ScratchFile>(NewScratch("target-blob"));
  if (t.compression == image::Compression::kNone) {
    SpoolBlob(t, files.blob->writer());
    if (t.desc.digest != t.diff_id) {
      throw Corruption("uncompressed layer ", t.desc.digest.str(), " does not match its diffID ", t.diff_id.str());
    }
    return files;
  }
  if (!with_tar) {
    SpoolBlob(t, files.blob->writer());
    return files;
  }
  files.tar = std::make_unique<ScratchFile>(NewScratch("target-tar"));
  SpoolBlobAndTar(t, files.blob->writer(), files.tar->writer());  // one read of the blob
  return files;
}

Candidate Planner::EncodeWhole(const LayerRef& t, const TargetFiles& files) {
  if (t.compression != image::Compression::kNone) {
    return {Method::kWhole, nullptr, files.blob->path(), static_cast<uint64_t>(t.desc.size), protocol::Encoding::kRaw, nullptr};
  }
  auto out = std::make_shared<ScratchFile>(NewScratch("whole"));
  FileReader in(files.blob->path());
  compress::ZstdWriter z(out->writer(), compress::ZstdParams{.level = kWholeZstdLevel,
                                                           .checksum = true,
                                                           .size = static_cast<uint64_t>(t.desc.size)});
  Copy(in, z);
  z.Finish();
  return {Method::kWhole, nullptr, out->path(), out->size(), protocol::Encoding::kZstd, out};
}

// The base most similar to the target's tar (indexed into `index`), or null when there is none:
// no bases, or the target is not a tar (or an unsafe one: it ships whole, and the far side's
// path check refuses it).
BaseCandidate* Planner::BestBase(const LayerRef& t, const TargetFiles& files, std::optional<delta::TarIndex>* index) {
  if (bases_.empty()) return nullptr;
  try {
    *index = IndexOf(t.diff_id, [&] { return files.OpenTar(); });
  } catch (const Error& e) {
    if (e.kind() != Error::Kind::kCorruption && e.kind() != Error::Kind::kSecurity) throw;
    return nullptr;
  }
  return MostSimilar(**index);
}

Candidate Planner::EncodeTarDelta(const LayerRef& t, const TargetFiles& files, const delta::TarIndex& index,
                                  BaseCandidate& base) {
  auto out = std::make_shared<ScratchFile>(NewScratch("tar-delta"));
  std::unique_ptr<Reader> in = files.OpenTar();
  progress().Begin("layer " + t.desc.digest.short_hex() + " tar-delta", index.tar_size);
  ProgressReader counted(*in, progress());
  if (base.signature) {
    delta::EncodeLayerDeltaFromBlockSignature(*base.signature, counted, out->writer(), o_.delta_options);
  } else {
    delta::EncodeOptions options = o_.delta_options;
    options.target_digest = t.diff_id;  // checked when spooled, or bound to the blob by its recipe
    options.target_index = &index;
    delta::EncodeLayerDelta(Spool(base).Tar(), *BaseIndex(base), counted, out->writer(), options);
  }
  progress().End();
  return {Method::kTarDelta, &base, out->path(), out->size(), protocol::Encoding::kRaw, out};
}

Candidate Planner::EncodeRawDelta(const TargetFiles& files, BaseCandidate& base) {
  auto out = std::make_shared<ScratchFile>(NewScratch("raw-delta"));
  FileReader in(files.blob->path());
  delta::EncodeRawDelta(Spool(base).Blob(), in, out->writer(), o_.delta_options);
  return {Method::kRawDelta, &base, out->path(), out->size(), protocol::Encoding::kRaw, out};
}

// The delta `encode` makes of target `t` against `base` with `method`, read from the delta cache
// when it holds it (the same bytes), else encoded and stored there. Signature-mode bases are
// not cached: their deltas depend on the far side's signature, not only on its layer.
Candidate Planner::CachedDelta(Method method, const LayerRef& t, BaseCandidate& base,
                               const std::function<Candidate()>& encode) {
  if (o_.delta_cache == nullptr || base.signature) return encode();
  DeltaKey key{base.layer->desc.digest, t.desc.digest, method, EncoderFingerprint(o_.delta_options)};
  auto cached = std::make_shared<ScratchFile>(NewScratch("cached-delta"));
  if (o_.delta_cache->Fetch(key, cached->writer())) {
    ++delta_cache_hits_;
    return {method, &base, cached->path(), cached->size(), protocol::Encoding::kRaw, cached};
  }
  cached.reset();
  ++delta_cache_misses_;
  Candidate encoded = encode();
  Remember([&] { o_.delta_cache->Store(key, encoded.file); });
  return encoded;
}

void Planner::Ship(const Candidate& c, protocol::LayerEntry* entry) {
  entry->method = c.method;
  entry->base.reset();
  if (c.base) entry->base = UseBase(*c.base);
  FileReader in(c.file);
  entry->payload = writer_.AppendRaw(in);
  entry->payload.encoding = c.encoding;
}

// A layer that ships as a tar (present, tar delta) is proven by its rebuilt tar's diffID: its
// recipe was proven on the whole blob when it was probed (or cached). A blob that ships as bytes
// (whole, raw delta) is proven by its rebuilt blob's digest.
void Planner::Prove(const protocol::LayerEntry& entry, BaseCandidate* base) {
  if (base && base->signature) return;  // no base bytes here: the far side's digests decide
  BaseAccess access = base ? AccessFor(entry.method, Spool(*base)) : BaseAccess{};
  bool via_tar = ShipsAsTar(entry.method);
  auto payload = writer_.ReadBack(entry.payload);
  NullWriter sink;
  TempDir proof(scratch_.path(), "proof-");
  if (via_tar) {
    RebuildTar(entry, *payload, access, proof.path(), sink);
  } else {
    RebuildBlobOf(entry, *payload, access, sink);
  }
}

// The target layer's recipe when it needs no probe: empty for an uncompressed layer, else the
// cached one (proven on this blob and diffID); nullopt otherwise.
std::optional<std::string> Planner::KnownRecipe(const LayerRef& t) {
  if (t.compression == image::Compression::kNone) return std::string();
  return cache_.FindRecipe(t.desc.digest, t.diff_id);
}

// Starts finding the target layer's recipe: `known`, else probed (one full compression, proven
// on the whole blob) on a second thread.
PendingRecipe Planner::StartRecipe(const LayerRef& t, const TargetFiles& files, std::optional<std::string> known) {
  PendingRecipe pending;
  if (known) {
    pending.known = std::move(known);
  } else {
    pending.probe = std::async(std::launch::async, [&t, &files] {
      return ProbeSpooledRecipe(files.blob->path(), t.desc.digest, files.tar_path(), t.diff_id);
    });
  }
  return pending;
}

// The recipe StartRecipe found, cached when it was probed; nullopt (with the reason in the
// report) when no recipe rebuilds the blob. Rethrows what the probe threw.
std::optional<std::string> Planner::FinishRecipe(const LayerRef& t, PendingRecipe& pending, LayerReport* report) {
  if (!pending.probe.valid()) return pending.known;
  RecipeResult recipe = pending.probe.get();
  if (!recipe.recipe) {
    report->note = recipe.reason;
    return std::nullopt;
  }
  Remember([&] { cache_.StoreRecipe(t.desc.digest, t.diff_id, *recipe.recipe); });
  return recipe.recipe;
}

// Every way to ship target layer `t` that can win, smallest first; sets entry->recipe.
std::vector<Candidate> Planner::Candidates(const LayerRef& t, const TargetFiles& files, std::optional<std::string> known,
                                           protocol::LayerEntry* entry, LayerReport* report) {
  PendingRecipe pending = StartRecipe(t, files, std::move(known));
  std::vector<Candidate> candidates = {EncodeWhole(t, files)};
  BaseCandidate* same_tar = FindByDiffId(t.diff_id);
  std::optional<delta::TarIndex> index;
  BaseCandidate* best = same_tar ? nullptr : BestBase(t, files, &index);
  // Encoded while the recipe is probed: wasted only when no recipe rebuilds the blob.
  std::optional<Candidate> tar_delta;
  if (best) {
    tar_delta = CachedDelta(Method::kTarDelta, t, *best, [&] { return EncodeTarDelta(t, files, *index, *best); });
  }
  std::optional<std::string> recipe = FinishRecipe(t, pending, report);
  entry->recipe = recipe.value_or("");
  if (recipe && same_tar) {
    candidates.push_back({Method::kPresent, same_tar, {}, 0, protocol::Encoding::kRaw, nullptr});
  } else if (recipe && tar_delta) {
    candidates.push_back(std::move(*tar_delta));
  } else if (!recipe) {
    if (same_tar) best = BestBase(t, files, &index);
    if (best && !best->signature && best->layer->compression != image::Compression::kNone) {
      candidates.push_back(CachedDelta(Method::kRawDelta, t, *best, [&] { return EncodeRawDelta(files, *best); }));
    }
  }
  std::sort(candidates.begin(), candidates.end(), [](const Candidate& a, const Candidate& b) { return a.bytes < b.bytes; });
  return candidates;
}

// Ships the first of `candidates` that passes its proof into `entry`; `whole` failing is fatal.
void Planner::ShipFirstProven(const std::vector<Candidate>& candidates, protocol::LayerEntry* entry,
                              LayerReport* report) {
  for (const Candidate& c : candidates) {
    try {
      if (c.method == Method::kPresent) {
        entry->method = Method::kPresent;
        entry->base = UseBase(*c.base);
        entry->payload = {};
      } else {
        Ship(c, entry);
      }
      Prove(*entry, c.base);
      report->method = entry->method;
      report->payload_bytes = entry->payload.length;
      return;
    } catch (const Error& e) {
      if (c.method == Method::kWhole) throw;
      report->note = std::string(protocol::MethodName(c.method)) + " failed its proof: " + e.what();
    }
  }
  throw Corruption("layer ", entry->digest.str(), ": no way to ship it passed its proof");
}

protocol::LayerEntry Planner::PlanLayer(size_t i, LayerReport* report) {
  const LayerRef& t = to_.layers[i];
  protocol::LayerEntry entry;
  entry.media_type = t.desc.media_type;
  entry.digest = t.desc.digest;
  entry.size = static_cast<uint64_t>(t.desc.size);
  entry.diff_id = t.diff_id;
  report->digest = t.desc.digest;
  report->blob_bytes = entry.size;
  if (BaseCandidate* b = FindByDigest(t.desc.digest)) {
    // The far side holds this very blob: nothing to rebuild. (One that holds only tars, such as
    // a `docker save` archive, is named by its diffIDs instead, and the layer ships as below.)
    entry.method = Method::kPresent;
    entry.base = UseBase(*b);
    report->method = entry.method;
    return entry;
  }
  std::optional<std::string> known = KnownRecipe(t);
  TargetFiles files = SpoolTarget(t, !known);
  // A signature vouches for the layer: the hub refuses to sign one that extracts outside its root.
  if (o_.sign_key) CheckTarPaths(*files.OpenTar(), "layer " + t.desc.digest.str());
  ShipFirstProven(Candidates(t, files, std::move(known), &entry, report), &entry, report);
  // A registry ships every blob the far side lacks; one whose tar it holds counts as held.
  if (entry.method != Method::kPresent) header_.registry_bytes += entry.size;
  return entry;
}

DiffReport Planner::Run() {
  to_ = LoadImage(o_.to, o_.stores);
  LoadBases();
  for (const LayerRef& t : to_.layers) {
    if (BaseCandidate* b = FindByDigest(t.desc.digest)) b->kept = true;
  }
  DiffReport report;
  header_.target_reference = o_.to.text;
  header_.created_by = kVersion;
  header_.manifest = {to_.manifest.blob.digest, to_.manifest.blob.bytes.size(), to_.manifest.blob.media_type,
                      writer_.AppendZstd(to_.manifest.blob.bytes)};
  header_.config = {to_.config.digest, to_.config.bytes.size(), to_.manifest.config.media_type,
                    writer_.AppendZstd(to_.config.bytes)};
  header_.registry_bytes = to_.manifest.blob.bytes.size() + to_.config.bytes.size();
  for (size_t i = 0; i < to_.layers.size(); ++i) {
    report.layers.emplace_back();
    header_.layers.push_back(PlanLayer(i, &report.layers.back()));
  }
  header_.carried = AppendCarried(o_.carry, o_.stores, writer_);
  writer_.Finish(header_, o_.output, o_.sign_key);
  report.manifest = to_.manifest.blob.digest;
  report.registry_bytes = header_.registry_bytes;
  report.bundle_bytes = FileSize(o_.output);
  report.warnings = std::move(warnings_);
  report.delta_cache_hits = delta_cache_hits_;
  report.delta_cache_misses = delta_cache_misses_;
  return report;
}

}  // namespace

DiffReport Diff(const DiffOptions& options) {
  Planner planner(options);
  return planner.Run();
}

std::string SummaryLine(uint64_t bundle_bytes, uint64_t registry_bytes) {
  char pct[32] = "";
  if (registry_bytes > 0) {
    std::snprintf(pct, sizeof(pct), " (%.1f%%)", 100.0 * static_cast<double>(bundle_bytes) / static_cast<double>(registry_bytes));
  }
  return "bundle " + protocol::HumanBytes(bundle_bytes) + " vs " + protocol::HumanBytes(registry_bytes) +
         " from a registry" + pct;
}

}  // namespace outpost::sync
