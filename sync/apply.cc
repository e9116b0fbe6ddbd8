#include "sync/apply.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <exception>
#include <memory>
#include <mutex>
#include <thread>

#include "common/error.h"
#include "common/file.h"
#include "compress/decompress.h"
#include "sync/carry.h"
#include "sync/image_source.h"
#include "sync/layer_codec.h"
#include "sync/layer_rebuild.h"
#include "image/image.h"
#include "protocol/bundle_file.h"

namespace outpost::sync {
namespace {

using sync::LayerRef;
using sync::ScratchFile;
using protocol::Method;

// Layers staged at once: the rebuilt ones are CPU-bound (recompression) and the present ones
// I/O- and hash-bound, so two overlap well on small sites without doubling peak memory much.
constexpr size_t kStagingThreads = 2;

// Lets the staging workers share one progress line: the first unit begun owns the line until it
// ends; the other units report nothing meanwhile, so the line never mixes two layers.
class SharedProgress {
 public:
  explicit SharedProgress(sync::Progress& line) : line_(line) {}

  // One layer's reports, forwarded to the line while this unit owns it.
  class Unit : public sync::Progress {
   public:
    explicit Unit(SharedProgress& shared) : shared_(shared) {}
    void Begin(const std::string& label, uint64_t total) override {
      std::lock_guard lock(shared_.mu_);
      if (shared_.owner_ != nullptr) return;
      shared_.owner_ = this;
      shared_.line_.Begin(label, total);
    }
    void Advance(uint64_t n) override {
      std::lock_guard lock(shared_.mu_);
      if (shared_.owner_ == this) shared_.line_.Advance(n);
    }
    void End() override {
      std::lock_guard lock(shared_.mu_);
      if (shared_.owner_ != this) return;
      shared_.line_.End();
      shared_.owner_ = nullptr;
    }

   private:
    SharedProgress& shared_;
  };

 private:
  sync::Progress& line_;
  std::mutex mu_;
  const Unit* owner_ = nullptr;
};

// A base the bundle requires, as found at this site.
struct LocatedBase {
  const LayerRef* layer = nullptr;
  bool by_digest = false;  // the store holds the exact blob (else only the tar, by diffID)
  bool in_target = false;  // the store is the target: a present blob needs no copy, only a check
  std::unique_ptr<sync::SpooledLayer> spool;  // its tar and blob, spooled on first use
};

// A rebuilt layer waiting in staging, or a blob to copy from a base store as is.
struct StagedLayer {
  Digest digest;  // as written to the target store
  uint64_t size = 0;
  std::unique_ptr<ScratchFile> file;  // verified bytes to publish; nullptr: `source`, verified
  const LayerRef* source = nullptr;
  bool duplicate = false;  // an earlier layer has the same blob: staged and published once, there
};

// Bytes of every file under `dir` (what staging holds on disk).
uint64_t BytesUnder(const std::filesystem::path& dir) {
  uint64_t total = 0;
  std::error_code ec;
  for (auto it = std::filesystem::recursive_directory_iterator(dir, ec); !ec && it != std::filesystem::end(it);
       it.increment(ec)) {
    if (it->is_regular_file(ec)) total += it->file_size(ec);
  }
  return total;
}

class Applier {
 public:
  explicit Applier(const ApplyOptions& o)
      : o_(o), bundle_(o.bundle, o.verify_key), scratch_(o.scratch, "outpost-apply-"),
        to_archive_(o.into.transport == storage::Reference::Transport::kDockerArchive) {}

  ApplyReport Run();

 private:
  void CheckTrust();
  void LoadDocuments();
  void LocateBases();
  bool IsTarget(const storage::Reference& ref) const;
  sync::BaseAccess Access(LocatedBase& b, const protocol::LayerEntry& e);
  void StageAll();
  bool CanStageConcurrently() const;
  StagedLayer Stage(size_t i, sync::Progress& progress);
  void CheckPaths(const StagedLayer& s, const protocol::LayerEntry& e);
  std::string ArchiveManifest() const;
  void Publish();
  std::filesystem::path NewScratch(const char* name) {
    return scratch_.path() / (std::string(name) + "-" + std::to_string(counter_++));
  }

  const ApplyOptions& o_;
  protocol::BundleReader bundle_;
  TempDir scratch_;
  bool to_archive_;
  ApplyReport report_;
  image::ManifestBlob manifest_blob_;
  std::string config_bytes_;
  std::vector<sync::LoadedImage> bases_;
  std::vector<LocatedBase> located_;  // each distinct base once
  std::vector<size_t> base_slot_;     // per header base: its entry in located_
  std::vector<StagedLayer> staged_;
  sync::NullProgress null_progress_;
  std::atomic<int> counter_ = 0;
};

void Applier::CheckTrust() {
  const protocol::Header& h = bundle_.header();
  if (o_.verify_key) {
    // Checked as the head was read, before its header was parsed (BundleHead::Parse).
  } else if (bundle_.signer()) {
    report_.warnings.push_back("bundle is signed by " + protocol::KeyFingerprint(*bundle_.signer()) +
                               " but no --verify-key was given: signature not checked (digests are)");
  } else {
    report_.warnings.push_back("bundle is unsigned: its origin is not checked (digests are)");
  }
  std::optional<Digest> want = o_.expect ? o_.expect : o_.into.digest;
  if (want && *want != h.manifest.digest) {
    throw InvalidArgument("bundle ", o_.bundle.string(), " builds ", h.target_reference, " (", h.manifest.digest.str(),
                          "), not the expected ", want->str());
  }
  bundle_.VerifyChunks();
}

void Applier::LoadDocuments() {
  const protocol::Header& h = bundle_.header();
  manifest_blob_ = image::ManifestBlob::FromBytes(bundle_.ReadDocument(h.manifest, "manifest"), h.manifest.media_type);
  config_bytes_ = bundle_.ReadDocument(h.config, "config");
  image::Manifest m = image::Manifest::Parse(manifest_blob_);
  image::Config c = image::Config::Parse(config_bytes_);
  bool consistent = m.config.digest == h.config.digest && m.layers.size() == h.layers.size() &&
                    c.diff_ids.size() == h.layers.size();
  for (size_t i = 0; consistent && i < h.layers.size(); ++i) {
    consistent = m.layers[i].digest == h.layers[i].digest && static_cast<uint64_t>(m.layers[i].size) == h.layers[i].size &&
                 c.diff_ids[i] == h.layers[i].diff_id;
  }
  if (!consistent) throw Corruption("bundle ", o_.bundle.string(), ": header does not match the manifest it carries");
  report_.config = h.config.digest;
}

void Applier::LocateBases() {
  for (const storage::Reference& ref : o_.bases) bases_.push_back(sync::LoadImage(ref, o_.stores));
  const std::vector<protocol::BaseLayer>& wanted = bundle_.header().bases;
  for (size_t i = 0; i < wanted.size(); ++i) {
    const protocol::BaseLayer& want = wanted[i];
    // A base listed twice is found and spooled once (at most kMaxBases^2 comparisons).
    auto same = std::find(wanted.begin(), wanted.begin() + static_cast<std::ptrdiff_t>(i), want);
    if (same != wanted.begin() + static_cast<std::ptrdiff_t>(i)) {
      base_slot_.push_back(base_slot_[static_cast<size_t>(same - wanted.begin())]);
      continue;
    }
    LocatedBase found;
    for (const sync::LoadedImage& img : bases_) {
      for (const LayerRef& l : img.layers) {
        if (l.desc.digest == want.digest) {
          found.layer = &l;
          found.by_digest = true;
          found.in_target = IsTarget(img.ref);
        }
        if (!found.layer && l.diff_id == want.diff_id) found.layer = &l;
      }
    }
    if (!found.layer) {
      std::string where;
      for (const storage::Reference& ref : o_.bases) where += (where.empty() ? "" : ", ") + ref.text;
      throw NotFound("bundle needs base layer ", want.digest.str(), " (diffID ", want.diff_id.str(), "), which ",
                     where.empty() ? std::string("no --base was given to provide") : "none of " + where + " holds");
    }
    found.spool = std::make_unique<sync::SpooledLayer>(*found.layer, NewScratch("base"));
    base_slot_.push_back(located_.size());
    located_.push_back(std::move(found));
  }
}

bool Applier::IsTarget(const storage::Reference& ref) const {
  if (ref.transport != o_.into.transport) return false;
  std::error_code ec;
  return ref.location == o_.into.location || std::filesystem::equivalent(ref.location, o_.into.location, ec);
}

sync::BaseAccess Applier::Access(LocatedBase& b, const protocol::LayerEntry& e) {
  if (e.method == Method::kRawDelta && !b.by_digest) {
    throw NotFound("layer ", e.digest.str(), " is a raw delta against blob ", b.layer->desc.digest.str(),
                   ", but the --base stores hold only its uncompressed tar");
  }
  return sync::AccessFor(e.method, *b.spool);
}

StagedLayer Applier::Stage(size_t i, sync::Progress& progress) {
  const protocol::LayerEntry& e = bundle_.header().layers[i];
  LocatedBase* base = e.base ? &located_[base_slot_[*e.base]] : nullptr;
  StagedLayer s;
  s.digest = to_archive_ ? e.diff_id : e.digest;
  bool exact_blob = e.method == Method::kPresent && base->by_digest && base->layer->desc.digest == e.digest;
  if (exact_blob && !to_archive_) {
    // Verified now, so publishing cannot fail on it. Into another store, the verified copy is
    // what gets published (read and hashed once); into the base's own store, nothing is copied.
    s.size = e.size;
    s.source = base->layer;
    if (!base->in_target) s.file = std::make_unique<ScratchFile>(NewScratch("layer"));
    NullWriter sink;
    sync::SpoolBlob(*s.source, s.file ? s.file->writer() : static_cast<Writer&>(sink));
    return s;
  }
  if (e.method == Method::kPresent && !base->by_digest && e.recipe.empty() &&
      image::LayerCompression(e.media_type) != image::Compression::kNone && !to_archive_) {
    throw NotFound("layer ", e.digest.str(),
                   ": the --base stores hold only its uncompressed tar and the bundle carries no recipe to "
                   "recompress it; make the bundle with --from naming what this site holds (e.g. its "
                   "docker-archive)");
  }
  s.file = std::make_unique<ScratchFile>(NewScratch("layer"));
  auto payload = bundle_.OpenSpan(e.payload, "layer " + e.digest.str());
  sync::BaseAccess access = base ? Access(*base, e) : sync::BaseAccess{};
  TempDir work(scratch_.path(), "work-");
  std::string name = "layer " + std::to_string(i + 1) + "/" + std::to_string(bundle_.header().layers.size()) + " " +
                     e.digest.str();
  progress.Begin("layer " + std::to_string(i + 1) + "/" + std::to_string(bundle_.header().layers.size()) + " " +
                   e.digest.short_hex() + " " + std::string(protocol::MethodName(e.method)), e.size);
  sync::ProgressWriter counted(s.file->writer(), progress);
  if (to_archive_) {
    sync::RebuildTar(e, *payload, access, work.path(), counted, name);
  } else {
    sync::RebuildBlobOf(e, *payload, access, counted, name);
  }
  progress.End();
  s.size = s.file->size();
  return s;
}

void Applier::CheckPaths(const StagedLayer& s, const protocol::LayerEntry& e) {
  std::unique_ptr<Reader> raw;
  if (s.file) {
    raw = std::make_unique<FileReader>(s.file->path());
  } else {
    raw = s.source->store->OpenBlob(s.source->desc.digest);
  }
  image::Compression c = to_archive_ ? image::Compression::kNone : image::LayerCompression(e.media_type);
  auto tar = compress::OpenDecompressed(std::move(raw), c, "layer " + e.digest.str());
  sync::CheckTarPaths(*tar, "layer " + e.digest.str());
}

std::string Applier::ArchiveManifest() const {
  // The same rewrite `outpost copy` makes into a docker-archive (storage/copy.cc), so both paths
  // give one manifest digest.
  nlohmann::json doc = nlohmann::json::parse(manifest_blob_.bytes);
  const protocol::Header& h = bundle_.header();
  for (size_t i = 0; i < staged_.size(); ++i) {
    nlohmann::json& layer = doc["layers"][i];
    layer["mediaType"] = image::UncompressedLayerMediaType(h.layers[i].media_type);
    layer["digest"] = staged_[i].digest.str();
    layer["size"] = staged_[i].size;
    layer.erase("urls");
  }
  return doc.dump();
}

void Applier::Publish() {
  auto store = storage::OpenStore(o_.into, o_.stores, true);
  for (const StagedLayer& s : staged_) {
    if (s.duplicate) continue;
    if (s.file) {
      store->AdoptBlob(s.digest, static_cast<int64_t>(s.size), s.file->path());  // verified when staged
    } else if (!store->HasBlob(s.digest)) {
      auto in = s.source->store->OpenBlob(s.digest);
      store->WriteBlob(s.digest, static_cast<int64_t>(s.size), *in);
    }
  }
  StringReader config(config_bytes_);
  store->WriteBlob(report_.config, static_cast<int64_t>(config_bytes_.size()), config);
  image::ManifestBlob manifest = to_archive_ ? image::ManifestBlob::FromBytes(ArchiveManifest(), manifest_blob_.media_type)
                                             : manifest_blob_;
  report_.tag = o_.into.tag;
  if (report_.tag.empty()) {
    try {
      report_.tag = storage::Reference::Parse(bundle_.header().target_reference).tag;
    } catch (const Error&) {
      // A target named in a form this build does not parse: write no tag.
    }
  }
  store->WriteManifest(manifest, report_.tag);
  if (!to_archive_) {  // a docker-archive holds one image, under digests of its own
    std::vector<std::string> carried = PublishCarried(bundle_, *store, o_.carried_tag_prefix);
    report_.warnings.insert(report_.warnings.end(), carried.begin(), carried.end());
  }
  store->Commit();
  report_.manifest = manifest.digest;
}

bool Applier::CanStageConcurrently() const {
  // Registry bases share one HTTP session per store: read them one layer at a time.
  return std::none_of(o_.bases.begin(), o_.bases.end(), [](const storage::Reference& r) {
    return r.transport == storage::Reference::Transport::kDocker;
  });
}

void Applier::StageAll() {
  const std::vector<protocol::LayerEntry>& layers = bundle_.header().layers;
  staged_.resize(layers.size());
  // A layer whose blob an earlier layer has (an image may repeat one) is staged once.
  std::vector<size_t> first(layers.size());
  for (size_t i = 0; i < layers.size(); ++i) {
    first[i] = i;
    for (size_t j = 0; j < i; ++j) {
      if (layers[j].digest == layers[i].digest) {
        first[i] = j;
        break;
      }
    }
  }
  std::vector<std::exception_ptr> failures(layers.size());
  std::atomic<size_t> next = 0;
  std::atomic<bool> failed = false;
  SharedProgress line(o_.progress ? *o_.progress : null_progress_);
  auto work = [&] {
    SharedProgress::Unit progress(line);
    for (size_t i = next++; i < layers.size() && !failed; i = next++) {
      if (first[i] != i) continue;
      try {
        staged_[i] = Stage(i, progress);
        // Tar deltas were checked as they were applied (the delta applier's TarGuard), and present
        // layers are this site's own: only bytes shipped as such (whole, raw delta) need the walk.
        if (!sync::ShipsAsTar(layers[i].method)) CheckPaths(staged_[i], layers[i]);
      } catch (...) {
        failures[i] = std::current_exception();
        failed = true;
      }
    }
  };
  {
    size_t threads = CanStageConcurrently() ? std::min(kStagingThreads, layers.size()) : 1;
    std::vector<std::jthread> helpers;
    for (size_t t = 1; t < threads; ++t) helpers.emplace_back(work);
    work();
  }  // joins the helpers
  // The first failing layer in order, so the error does not depend on which thread lost the race.
  for (const std::exception_ptr& f : failures) {
    if (f) std::rethrow_exception(f);
  }
  for (size_t i = 0; i < layers.size(); ++i) {
    if (first[i] == i) continue;
    staged_[i].digest = staged_[first[i]].digest;
    staged_[i].size = staged_[first[i]].size;
    staged_[i].duplicate = true;
  }
  report_.staged_bytes = BytesUnder(scratch_.path());  // everything staged is still there: the peak
}

ApplyReport Applier::Run() {
  CheckTrust();
  LoadDocuments();
  LocateBases();
  StageAll();
  Publish();
  return report_;
}

}  // namespace

ApplyReport Apply(const ApplyOptions& options) {
  Applier applier(options);
  return applier.Run();
}

}  // namespace outpost::sync
