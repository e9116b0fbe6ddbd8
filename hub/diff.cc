#include "hub/diff.h"

#include <algorithm>
#include <cstdio>
#include <functional>
#include <memory>
#include <optional>

#include "common/error.h"
#include "common/file.h"
#include "common/version.h"
#include "hub/image_signature.h"
#include "hub/image_source.h"
#include "hub/layer_codec.h"
#include "hub/layer_rebuild.h"
#include "hub/layer_cache.h"
#include "protocol/bundle_file.h"
#include "protocol/bundle_printer.h"
#include "protocol/zstd_stream.h"

namespace outpost::hub {
namespace {

using protocol::Method;

// zstd level for uncompressed layers shipped whole: a good ratio at well over 10 MB/s.
constexpr int kWholeZstdLevel = 9;

// A layer the far side holds; its tar, blob and index are spooled on first use.
struct BaseCandidate {
  const LayerRef* layer = nullptr;
  const delta::Signature* signature = nullptr;  // signature mode: no bytes, only this
  std::unique_ptr<ScratchFile> tar;
  std::unique_ptr<RandomAccessFile> tar_access;
  std::unique_ptr<ScratchFile> blob;
  std::unique_ptr<RandomAccessFile> blob_access;
  std::optional<delta::TarIndex> index;
  bool index_failed = false;
  std::optional<size_t> header_index;
};

// One way to ship a layer, encoded into a scratch file (or, for a compressed whole blob, the
// spooled blob itself).
struct Candidate {
  Method method = Method::kWhole;
  BaseCandidate* base = nullptr;
  const std::filesystem::path* file = nullptr;
  uint64_t bytes = 0;
  protocol::Encoding encoding = protocol::Encoding::kRaw;
};

// The target layer spooled to scratch: its blob, and its tar (the same file when uncompressed).
struct TargetFiles {
  std::unique_ptr<ScratchFile> blob;
  std::unique_ptr<ScratchFile> tar;
  const std::filesystem::path& tar_path() const { return tar ? tar->path() : blob->path(); }
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
  const RandomAccess& BaseTar(BaseCandidate& b);
  const RandomAccess& BaseBlob(BaseCandidate& b);
  const delta::TarIndex* BaseIndex(BaseCandidate& b);
  // The index of the tar `diff_id`: from the cache, else built from `open_tar` and cached.
  // Throws what TarIndex::Build throws.
  delta::TarIndex IndexOf(const Digest& diff_id, const std::function<std::unique_ptr<Reader>()>& open_tar);
  // Runs a cache store; a failure only costs time next run, so it becomes a warning.
  void Remember(const std::function<void()>& store);
  BaseCandidate* MostSimilar(const delta::TarIndex& target);
  size_t UseBase(BaseCandidate& b);
  protocol::LayerEntry PlanLayer(size_t i, LayerReport* report);
  std::optional<std::string> RecipeFor(const LayerRef& t, const std::function<RecipeResult()>& probe,
                                       LayerReport* report);
  TargetFiles SpoolTarget(const LayerRef& t);
  std::vector<Candidate> Encode(const LayerRef& t, const TargetFiles& files, const std::optional<std::string>& recipe,
                                std::vector<std::unique_ptr<ScratchFile>>* outputs);
  void Ship(const Candidate& c, protocol::LayerEntry* entry);
  void Prove(const protocol::LayerEntry& entry, BaseCandidate* base);
  Progress& progress() { return o_.progress ? *o_.progress : null_progress_; }

  const DiffOptions& o_;
  TempDir scratch_;
  protocol::BundleWriter writer_;
  std::vector<LoadedImage> from_;
  LoadedImage to_;
  std::vector<BaseCandidate> bases_;
  ImageSignature signature_;
  std::vector<LayerRef> signed_layers_;
  protocol::Header header_;
  NullProgress null_progress_;
  LayerCache cache_;
  std::vector<std::string> warnings_;
  int scratch_counter_ = 0;

  std::filesystem::path NewScratch(const char* name) {
    return scratch_.path() / (std::string(name) + "-" + std::to_string(scratch_counter_++));
  }
};

void Planner::LoadBases() {
  if (!o_.from_signature.empty()) {
    signature_ = ImageSignature::Load(o_.from_signature);
    for (const SignedLayer& l : signature_.layers) {
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
  for (const storage::Reference& ref : o_.from) from_.push_back(LoadImage(ref, o_.store_options));
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

const RandomAccess& Planner::BaseTar(BaseCandidate& b) {
  if (!b.tar_access) {
    b.tar = std::make_unique<ScratchFile>(NewScratch("base-tar"));
    SpoolTar(*b.layer, b.tar->writer());
    b.tar_access = std::make_unique<RandomAccessFile>(b.tar->path());
  }
  return *b.tar_access;
}

const RandomAccess& Planner::BaseBlob(BaseCandidate& b) {
  if (!b.blob_access) {
    b.blob = std::make_unique<ScratchFile>(NewScratch("base-blob"));
    SpoolBlob(*b.layer, b.blob->writer());
    b.blob_access = std::make_unique<RandomAccessFile>(b.blob->path());
  }
  return *b.blob_access;
}

const delta::TarIndex* Planner::BaseIndex(BaseCandidate& b) {
  if (b.signature) return &b.signature->index;
  if (!b.index && !b.index_failed) {
    try {
      b.index = IndexOf(b.layer->diff_id, [&]() -> std::unique_ptr<Reader> {
        const RandomAccess& tar = BaseTar(b);
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

BaseCandidate* Planner::MostSimilar(const delta::TarIndex& target) {
  BaseCandidate* best = nullptr;
  double best_score = 0;
  for (BaseCandidate& b : bases_) {
    const delta::TarIndex* index = BaseIndex(b);
    if (!index) continue;
    double score = delta::Similarity(*index, target);
    if (score > best_score) {
      best_score = score;
      best = &b;
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

TargetFiles Planner::SpoolTarget(const LayerRef& t) {
  TargetFiles files;
  files.blob = std::make_unique<ScratchFile>(NewScratch("target-blob"));
  if (t.compression == image::Compression::kNone) {
    SpoolBlob(t, files.blob->writer());
    if (t.desc.digest != t.diff_id) {
      throw Corruption("uncompressed layer ", t.desc.digest.str(), " does not match its diffID ", t.diff_id.str());
    }
    return files;
  }
  files.tar = std::make_unique<ScratchFile>(NewScratch("target-tar"));
  SpoolBlobAndTar(t, files.blob->writer(), files.tar->writer());  // one read of the blob
  return files;
}

std::vector<Candidate> Planner::Encode(const LayerRef& t, const TargetFiles& files,
                                       const std::optional<std::string>& recipe,
                                       std::vector<std::unique_ptr<ScratchFile>>* outputs) {
  std::vector<Candidate> out;
  auto encode_into = [&](Method m, BaseCandidate* base, protocol::Encoding enc, auto&& fn) {
    outputs->push_back(std::make_unique<ScratchFile>(NewScratch("candidate")));
    ScratchFile& f = *outputs->back();
    fn(f.writer());
    out.push_back({m, base, &f.path(), f.size(), enc});
  };
  if (t.compression == image::Compression::kNone) {
    encode_into(Method::kWhole, nullptr, protocol::Encoding::kZstd, [&](Writer& w) {
      FileReader in(files.blob->path());
      protocol::ZstdWriter z(w, kWholeZstdLevel, static_cast<uint64_t>(t.desc.size));
      Copy(in, z);
      z.Finish();
    });
  } else {
    out.push_back({Method::kWhole, nullptr, &files.blob->path(), static_cast<uint64_t>(t.desc.size), protocol::Encoding::kRaw});
  }
  if (bases_.empty()) return out;
  std::optional<delta::TarIndex> index;
  try {
    index = IndexOf(t.diff_id, [&] { return std::make_unique<FileReader>(files.tar_path()); });
  } catch (const Error& e) {
    // Not a tar, or an unsafe one: shipped whole, and the far side's path check refuses it.
    if (e.kind() != Error::Kind::kCorruption && e.kind() != Error::Kind::kSecurity) throw;
  }
  BaseCandidate* best = index ? MostSimilar(*index) : nullptr;
  if (best == nullptr) return out;
  if (recipe) {
    encode_into(Method::kTarDelta, best, protocol::Encoding::kRaw, [&](Writer& w) {
      FileReader in(files.tar_path());
      progress().Begin("layer " + t.desc.digest.short_hex() + " tar-delta", index->tar_size);
      ProgressReader counted(in, progress());
      if (best->signature) {
        delta::EncodeLayerDeltaFromSignature(*best->signature, counted, w, o_.delta_options);
      } else {
        delta::EncodeOptions options = o_.delta_options;
        options.target_digest = t.diff_id;  // checked when the tar was spooled
        delta::EncodeLayerDelta(BaseTar(*best), *BaseIndex(*best), counted, w, options);
      }
      progress().End();
    });
  } else if (!best->signature && best->layer->compression != image::Compression::kNone) {
    encode_into(Method::kRawDelta, best, protocol::Encoding::kRaw, [&](Writer& w) {
      FileReader in(files.blob->path());
      delta::EncodeRawDelta(BaseBlob(*best), in, w, o_.delta_options);
    });
  }
  return out;
}

void Planner::Ship(const Candidate& c, protocol::LayerEntry* entry) {
  entry->method = c.method;
  entry->base.reset();
  if (c.base) entry->base = UseBase(*c.base);
  FileReader in(*c.file);
  entry->payload = writer_.AppendRaw(in);
  entry->payload.encoding = c.encoding;
}

// A layer that ships as a tar (present, tar delta) is proven by its rebuilt tar's diffID: its
// recipe was proven on the whole blob when it was probed (or cached). A blob that ships as bytes
// (whole, raw delta) is proven by its rebuilt blob's digest.
void Planner::Prove(const protocol::LayerEntry& entry, BaseCandidate* base) {
  if (base && base->signature) return;  // no base bytes here: the far side's digests decide
  BaseAccess access;
  bool via_tar = ShipsAsTar(entry.method);
  if (base && via_tar) access.tar = &BaseTar(*base);
  if (base && entry.method == Method::kRawDelta) access.blob = &BaseBlob(*base);
  auto payload = writer_.ReadBack(entry.payload);
  NullWriter sink;
  TempDir proof(scratch_.path(), "proof-");
  if (via_tar) {
    RebuildTar(entry, *payload, access, proof.path(), sink);
  } else {
    RebuildBlobOf(entry, *payload, access, sink);
  }
}

// The layer's recipe: from the cache, else probed (one full compression, proven on the whole
// blob) and cached. Empty for an uncompressed layer; nullopt when no recipe rebuilds the blob.
std::optional<std::string> Planner::RecipeFor(const LayerRef& t, const std::function<RecipeResult()>& probe,
                                              LayerReport* report) {
  if (t.compression == image::Compression::kNone) return std::string();
  if (auto cached = cache_.FindRecipe(t.desc.digest, t.diff_id)) return cached;
  RecipeResult recipe = probe();
  if (!recipe.recipe) {
    report->note = recipe.reason;
    return std::nullopt;
  }
  Remember([&] { cache_.StoreRecipe(t.desc.digest, t.diff_id, *recipe.recipe); });
  return recipe.recipe;
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
    entry.method = Method::kPresent;
    entry.base = UseBase(*b);
    // The far side may hold only the tar (`docker save`): the recipe lets it recompress. Probed
    // once per blob, then cached (a layer that shipped earlier is cached already).
    entry.recipe = RecipeFor(t, [&] {
      return ProbeRecipe([&] { return t.store->OpenBlob(t.desc.digest); }, t.compression);
    }, report).value_or("");
    report->method = entry.method;
    return entry;
  }
  header_.registry_bytes += entry.size;
  TargetFiles files = SpoolTarget(t);
  std::optional<std::string> recipe = RecipeFor(t, [&] {
    return ProbeSpooledRecipe(files.blob->path(), t.desc.digest, files.tar_path(), t.diff_id);
  }, report);
  entry.recipe = recipe.value_or("");
  BaseCandidate* same_tar = recipe ? FindByDiffId(t.diff_id) : nullptr;
  std::vector<std::unique_ptr<ScratchFile>> outputs;
  std::vector<Candidate> candidates;
  if (same_tar) {
    candidates.push_back({Method::kPresent, same_tar, nullptr, 0, protocol::Encoding::kRaw});
  } else {
    candidates = Encode(t, files, recipe, &outputs);
  }
  std::sort(candidates.begin(), candidates.end(), [](const Candidate& a, const Candidate& b) { return a.bytes < b.bytes; });
  for (const Candidate& c : candidates) {
    try {
      if (c.method == Method::kPresent) {
        entry.method = Method::kPresent;
        entry.base = UseBase(*c.base);
        entry.payload = {};
      } else {
        Ship(c, &entry);
      }
      Prove(entry, c.base);
      report->method = entry.method;
      report->payload_bytes = entry.payload.length;
      return entry;
    } catch (const Error& e) {
      if (c.method == Method::kWhole) throw;
      report->note = std::string(protocol::MethodName(c.method)) + " failed its proof: " + e.what();
    }
  }
  throw Corruption("layer ", t.desc.digest.str(), ": no way to ship it passed its proof");
}

DiffReport Planner::Run() {
  to_ = LoadImage(o_.to, o_.store_options);
  LoadBases();
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
  writer_.Finish(header_, o_.output, o_.sign_key);
  report.manifest = to_.manifest.blob.digest;
  report.registry_bytes = header_.registry_bytes;
  report.bundle_bytes = std::filesystem::file_size(o_.output);
  report.warnings = std::move(warnings_);
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

}  // namespace outpost::hub
