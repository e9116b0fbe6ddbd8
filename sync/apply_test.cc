#include "sync/apply.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <mutex>

#include "common/error.h"
#include "common/file.h"
#include "sync/diff.h"
#include "sync/image_signature.h"
#include "sync/test_images.h"
#include "protocol/bundle_file.h"
#include "tar/hostile_tar.h"
#include "tests/support/matchers.h"
#include "tests/support/bytes.h"

namespace outpost::sync {
namespace {

using outpost::testing::KindOf;

using outpost::testing::Files;
using outpost::testing::RandomBytes;
using outpost::testing::TestLayer;
using outpost::testing::WriteImage;
using outpost::testing::ThrowsKind;
using ::testing::HasSubstr;
namespace fs = std::filesystem;

// Every file under `dir` with its bytes: the "exactly as it was" check.
std::map<std::string, std::string> Snapshot(const fs::path& dir) {
  std::map<std::string, std::string> out;
  if (!fs::exists(dir)) return out;
  if (fs::is_regular_file(dir)) {
    out[dir.string()] = ReadFileToString(dir, 1 << 30);
    return out;
  }
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    out[e.path().string()] = e.is_regular_file() ? ReadFileToString(e.path(), 1 << 30) : "<dir>";
  }
  return out;
}

Files BaseFiles() { return {{"bin/tool", RandomBytes(200000, 1)}, {"etc/os-release", "ID=test\n"}}; }
Files AppV1Files() { return {{"app/lib.so", RandomBytes(300000, 2)}, {"app/config.txt", std::string(5000, 'a')}}; }

// An old and a new image that share a base layer, change an app layer (one file edited, one
// added) and add a layer; gzip or uncompressed.
class ApplyTest : public ::testing::Test {
 protected:
  void MakePair(bool gzip) {
    Files base = BaseFiles();
    Files app_v1 = AppV1Files();
    Files app_v2 = app_v1;
    app_v2["app/lib.so"].replace(1000, 10, "0123456789");
    app_v2["app/new.txt"] = "new file\n";
    old_digest_ = WriteImage("oci:" + (dir_.path() / "hub").string() + ":v1", {{base, gzip}, {app_v1, gzip}});
    new_digest_ = WriteImage("oci:" + (dir_.path() / "hub").string() + ":v2",
                             {{base, gzip}, {app_v2, gzip}, {{{"data/blob", RandomBytes(1000, 3)}}, gzip}});
    WriteImage("oci:" + (dir_.path() / "site").string() + ":v1", {{base, gzip}, {app_v1, gzip}});
  }

  // Diffs hub:v2 against `from` (default hub:v1, which the site holds as blobs).
  sync::DiffReport Diff(const protocol::SigningKey* key = nullptr, const fs::path& cache = {},
                       std::string from = "") {
    if (from.empty()) from = "oci:" + (dir_.path() / "hub").string() + ":v1";
    sync::DiffOptions o;
    o.cache = cache;
    o.from = {storage::Reference::Parse(from)};
    o.to = storage::Reference::Parse("oci:" + (dir_.path() / "hub").string() + ":v2");
    o.output = bundle_;
    o.sign_key = key;
    o.scratch = dir_.path();
    return sync::Diff(o);
  }

  ApplyReport Apply(const std::string& into, const protocol::SigningKey* key = nullptr,
                    std::vector<std::string> bases = {}) {
    ApplyOptions o;
    o.bundle = bundle_;
    if (bases.empty()) bases = {"oci:" + (dir_.path() / "site").string() + ":v1"};
    for (const std::string& b : bases) o.bases.push_back(storage::Reference::Parse(b));
    o.into = storage::Reference::Parse(into);
    o.verify_key = key;
    o.scratch = dir_.path();
    return sync::Apply(o);
  }

  // The site's v1 as `docker save` would write it: the same layers, as uncompressed tars.
  void WriteSiteArchive(const std::string& archive) {
    Files base = BaseFiles();
    Files app_v1 = AppV1Files();
    WriteImage(archive + ":app:v1", {{base, false}, {app_v1, false}});
  }

  std::string SiteInto() const { return "oci:" + (dir_.path() / "site").string() + ":v2"; }

  // Applies expecting failure of `kind` and checks the site store did not change.
  void ExpectRefused(Error::Kind kind, const protocol::SigningKey* key = nullptr) {
    auto before = Snapshot(dir_.path() / "site");
    EXPECT_EQ(KindOf([&] { Apply(SiteInto(), key); }), kind);
    EXPECT_EQ(Snapshot(dir_.path() / "site"), before);
  }

  void RewriteBundle(const std::function<void(std::string&)>& edit) {
    std::string bytes = ReadFileToString(bundle_, 1 << 30);
    edit(bytes);
    WriteFileAtomic(bundle_, bytes);
  }

  // Flips one byte in the middle of the site's v1 layer `i` (its size stays, its digest breaks).
  void DamageSiteLayer(size_t i) {
    auto store = storage::OpenStore(storage::Reference::Parse("oci:" + (dir_.path() / "site").string()), {}, false);
    image::Manifest m = image::Manifest::Parse(store->ReadManifest("v1"));
    fs::path blob = dir_.path() / "site" / "blobs" / "sha256" / m.layers.at(i).digest.hex();
    std::string bytes = ReadFileToString(blob, 1 << 30);
    bytes[bytes.size() / 2] ^= 1;
    WriteFileAtomic(blob, bytes);
  }

  TempDir dir_;
  fs::path bundle_ = dir_.path() / "update.bundle";
  Digest old_digest_;
  Digest new_digest_;
};

TEST_F(ApplyTest, GzipPairRoundTripsToTheSameManifestDigest) {
  MakePair(true);
  sync::DiffReport r = Diff();
  EXPECT_EQ(r.manifest, new_digest_);
  EXPECT_LT(r.bundle_bytes, r.registry_bytes);
  ApplyReport a = Apply(SiteInto());
  EXPECT_EQ(a.manifest, new_digest_);
  auto site = storage::OpenStore(storage::Reference::Parse(SiteInto()), {}, false);
  EXPECT_EQ(site->ReadManifest("v2").digest, new_digest_);
}

TEST_F(ApplyTest, UncompressedPairRoundTrips) {
  MakePair(false);
  Diff();
  EXPECT_EQ(Apply(SiteInto()).manifest, new_digest_);
}

TEST_F(ApplyTest, DockerArchiveBaseRebuildsOciTarget) {
  MakePair(true);
  std::string archive = "docker-archive:" + (dir_.path() / "site.tar").string();
  WriteSiteArchive(archive);
  sync::DiffReport r = Diff(nullptr, {}, archive);
  EXPECT_EQ(r.layers[0].method, protocol::Method::kPresent);
  ApplyReport a = Apply("oci:" + (dir_.path() / "out").string() + ":v2", nullptr, {archive});
  EXPECT_EQ(a.manifest, new_digest_);
}

TEST_F(ApplyTest, BlobStoreBundleOnATarOnlySiteSaysToNameWhatTheSiteHolds) {
  MakePair(true);
  std::string archive = "docker-archive:" + (dir_.path() / "site.tar").string();
  WriteSiteArchive(archive);
  Diff();  // against hub:v1's blobs: the base layer ships as present, with no recipe
  fs::path out = dir_.path() / "out";
  try {
    Apply("oci:" + out.string() + ":v2", nullptr, {archive});
    ADD_FAILURE() << "applied";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), Error::Kind::kNotFound);
    EXPECT_NE(std::string(e.what()).find("--from"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(fs::exists(out));
}

TEST_F(ApplyTest, OciBaseRebuildsDockerArchiveTargetWithTheSameImageId) {
  MakePair(true);
  sync::DiffReport r = Diff();
  fs::path archive = dir_.path() / "out.tar";
  ApplyReport a = Apply("docker-archive:" + archive.string() + ":app:v2");
  auto hub_store = storage::OpenStore(storage::Reference::Parse("oci:" + (dir_.path() / "hub").string()), {}, false);
  image::Manifest m = image::Manifest::Parse(hub_store->ReadManifest("v2"));
  EXPECT_EQ(a.config, m.config.digest);
  auto out = storage::OpenStore(storage::Reference::Parse("docker-archive:" + archive.string()), {}, false);
  EXPECT_EQ(image::Manifest::Parse(out->ReadManifest("")).config.digest, m.config.digest);
}

TEST_F(ApplyTest, SignedBundleAppliesWithItsKeyAndNotWithAnother) {
  MakePair(true);
  protocol::SigningKey key = protocol::SigningKey::Generate();
  Diff(&key);
  protocol::SigningKey other = protocol::SigningKey::Generate();
  ExpectRefused(Error::Kind::kSecurity, &other);
  EXPECT_EQ(Apply(SiteInto(), &key).manifest, new_digest_);
}

TEST_F(ApplyTest, UnsignedBundleIsRefusedWithVerifyKeyAndWarnedWithout) {
  MakePair(true);
  Diff();
  protocol::SigningKey key = protocol::SigningKey::Generate();
  ExpectRefused(Error::Kind::kSecurity, &key);
  ApplyReport a = Apply(SiteInto());
  ASSERT_EQ(a.warnings.size(), 1u);
  EXPECT_NE(a.warnings[0].find("unsigned"), std::string::npos);
}

TEST_F(ApplyTest, TamperedSignatureIsRefusedAndLeavesTheStore) {
  MakePair(true);
  protocol::SigningKey key = protocol::SigningKey::Generate();
  Diff(&key);
  uint64_t payload = protocol::BundleReader(bundle_).header().payload_bytes;
  RewriteBundle([&](std::string& b) { b[b.size() - payload - 1] ^= 0x40; });
  ExpectRefused(Error::Kind::kSecurity, &key);
}

TEST_F(ApplyTest, TruncatedBundleIsRefusedAndLeavesTheStore) {
  MakePair(true);
  Diff();
  RewriteBundle([](std::string& b) { b.resize(b.size() - 3); });
  ExpectRefused(Error::Kind::kCorruption);
}

TEST_F(ApplyTest, FlippedByteInEveryChunkIsRefusedAndLeavesTheStore) {
  MakePair(false);
  Diff();
  std::string good = ReadFileToString(bundle_, 1 << 30);
  protocol::BundleReader r(bundle_);
  uint64_t start = good.size() - r.header().payload_bytes;
  uint64_t at = start;
  for (const protocol::ChunkRef& c : r.chunks()) {
    RewriteBundle([&](std::string& b) {
      b = good;
      b[at + c.length / 2] ^= 1;
    });
    ExpectRefused(Error::Kind::kCorruption);
    at += c.length;
  }
}

TEST_F(ApplyTest, MissingBaseIsNotFoundAndLeavesTheStore) {
  MakePair(true);
  Diff();
  WriteImage("oci:" + (dir_.path() / "other").string() + ":x", {{{{"x", "y"}}, true}});
  auto before = Snapshot(dir_.path() / "site");
  EXPECT_EQ(KindOf([&] { Apply(SiteInto(), nullptr, {"oci:" + (dir_.path() / "other").string() + ":x"}); }),
            Error::Kind::kNotFound);
  EXPECT_EQ(Snapshot(dir_.path() / "site"), before);
}

TEST_F(ApplyTest, BundleForAnotherTargetIsRefused) {
  MakePair(true);
  Diff();
  auto before = Snapshot(dir_.path() / "site");
  ApplyOptions o;
  o.bundle = bundle_;
  o.bases = {storage::Reference::Parse("oci:" + (dir_.path() / "site").string() + ":v1")};
  o.into = storage::Reference::Parse(SiteInto());
  o.expect = old_digest_;
  o.scratch = dir_.path();
  EXPECT_EQ(KindOf([&] { sync::Apply(o); }), Error::Kind::kInvalidArgument);
  EXPECT_EQ(Snapshot(dir_.path() / "site"), before);
}

TEST_F(ApplyTest, NothingIsCreatedWhenApplyFails) {
  MakePair(true);
  Diff();
  RewriteBundle([](std::string& b) { b.back() ^= 1; });
  fs::path fresh = dir_.path() / "fresh";
  EXPECT_EQ(KindOf([&] { Apply("oci:" + fresh.string() + ":v2"); }), Error::Kind::kCorruption);
  EXPECT_FALSE(fs::exists(fresh));
}

TEST_F(ApplyTest, TarEntryPathWithDotDotIsSecurityAndLeavesTheStore) {
  MakePair(true);
  Files base = {{"bin/tool", RandomBytes(200000, 1)}, {"etc/os-release", "ID=test\n"}};
  TestLayer evil;
  evil.gzip = false;
  evil.raw_tar = outpost::testing::TarWithRawName("../../etc/cron.d/evil", "* * * * * root true\n");
  WriteImage("oci:" + (dir_.path() / "hub").string() + ":v2", {{base, true}, evil});
  Diff();
  ExpectRefused(Error::Kind::kSecurity);
}

// GNU tar, Go and Python read a PAX size of 0; a reader that ignored it skipped the hidden
// entry's header as content, and both the signing hub and the verifying site let it through.
TEST_F(ApplyTest, EntryHiddenBehindAPaxSizeOfZeroIsRefusedBySigningAndByVerifying) {
  MakePair(true);
  TestLayer evil;
  evil.gzip = false;
  evil.raw_tar = tar::testing::HiddenBehindPaxSizeZero("../../../../tmp/x", "owned\n");
  WriteImage("oci:" + (dir_.path() / "hub").string() + ":v2", {{BaseFiles(), true}, evil});
  protocol::SigningKey key = protocol::SigningKey::Generate();
  EXPECT_THAT([&] { Diff(&key); }, ThrowsKind(Error::Kind::kSecurity, HasSubstr("../../../../tmp/x")));
  Diff();  // unsigned, the hub ships it; the site's path check (run with or without a key) refuses it
  auto before = Snapshot(dir_.path() / "site");
  EXPECT_THAT([&] { Apply(SiteInto()); }, ThrowsKind(Error::Kind::kSecurity, HasSubstr("../../../../tmp/x")));
  EXPECT_EQ(Snapshot(dir_.path() / "site"), before);
}

TEST_F(ApplyTest, SignatureModeRoundTripsWithoutTheBaseAtTheHub) {
  MakePair(true);
  fs::path sig = dir_.path() / "site.sig";
  sync::ComputeImageBlockSignature(storage::Reference::Parse("oci:" + (dir_.path() / "site").string() + ":v1"), {}, dir_.path())
      .Save(sig);
  sync::DiffOptions o;
  o.from_signature = sig;
  o.to = storage::Reference::Parse("oci:" + (dir_.path() / "hub").string() + ":v2");
  o.output = bundle_;
  o.scratch = dir_.path();
  sync::DiffReport r = sync::Diff(o);
  EXPECT_LT(r.bundle_bytes, r.registry_bytes);
  EXPECT_EQ(Apply(SiteInto()).manifest, new_digest_);
}

TEST_F(ApplyTest, LayerWithNoRecipeShipsAsRawDeltaAndRoundTrips) {
  Files v1 = {{"app/lib.so", RandomBytes(400000, 7)}, {"app/z.txt", "one\n"}};
  Files v2 = v1;
  v2["app/z.txt"] = "two\n";  // the compressed streams differ only near their end
  TestLayer old_layer(v1, true), new_layer(v2, true);
  old_layer.window_bits = new_layer.window_bits = 12;
  WriteImage("oci:" + (dir_.path() / "hub").string() + ":v1", {old_layer});
  new_digest_ = WriteImage("oci:" + (dir_.path() / "hub").string() + ":v2", {new_layer});
  WriteImage("oci:" + (dir_.path() / "site").string() + ":v1", {old_layer});
  sync::DiffReport r = Diff();
  ASSERT_EQ(r.layers.size(), 1u);
  EXPECT_EQ(r.layers[0].method, protocol::Method::kRawDelta);
  EXPECT_NE(r.layers[0].note.find("no recipe"), std::string::npos);
  EXPECT_LT(r.layers[0].payload_bytes, r.layers[0].blob_bytes / 10);
  EXPECT_EQ(Apply(SiteInto()).manifest, new_digest_);
}

TEST_F(ApplyTest, RecipeCacheIsFilledOnceAndUsedByTheNextDiff) {
  MakePair(true);
  fs::path cache_dir = dir_.path() / "cache";
  sync::DiffReport first = Diff(nullptr, cache_dir);
  size_t entries = 0;
  for (const auto& e : fs::directory_iterator(cache_dir / "recipes" / "sha256")) entries += e.is_regular_file();
  EXPECT_EQ(entries, 2u);  // the gzip layers that ship; the present one needs no recipe
  std::string bundle = ReadFileToString(bundle_, 1 << 30);
  sync::DiffReport second = Diff(nullptr, cache_dir);
  EXPECT_EQ(ReadFileToString(bundle_, 1 << 30), bundle);
  EXPECT_EQ(Apply(SiteInto()).manifest, new_digest_);
}

TEST_F(ApplyTest, WrongCachedRecipeIsCaughtByTheAgentAndLeavesTheStore) {
  MakePair(true);
  fs::path cache_dir = dir_.path() / "cache";
  Diff(nullptr, cache_dir);
  for (const auto& e : fs::directory_iterator(cache_dir / "recipes" / "sha256")) {
    std::string text = ReadFileToString(e.path());
    size_t level = text.find("zlib:6");
    ASSERT_NE(level, std::string::npos) << text;
    text.replace(level, 6, "zlib:1");
    WriteFileAtomic(e.path(), text);
  }
  Diff(nullptr, cache_dir);
  ExpectRefused(Error::Kind::kCorruption);
}

// Layer 0 is present (its blob verified as is) and layer 1 a tar delta: they stage at once, and
// whichever fails, the one that succeeded must not reach the store.
TEST_F(ApplyTest, DamagedPresentLayerFailsWhileTheDeltaStagesAndLeavesTheStore) {
  MakePair(true);
  Diff();
  DamageSiteLayer(0);
  ExpectRefused(Error::Kind::kCorruption);
}

TEST_F(ApplyTest, DamagedDeltaBaseFailsWhileThePresentLayerStagesAndLeavesTheStore) {
  MakePair(true);
  Diff();
  DamageSiteLayer(1);
  ExpectRefused(Error::Kind::kCorruption);
}

// Present blobs staged as verified copies and moved into a store other than the base's.
TEST_F(ApplyTest, ApplyIntoAnotherStoreRoundTripsAndLeavesTheBase) {
  MakePair(true);
  Diff();
  auto before = Snapshot(dir_.path() / "site");
  fs::path fresh = dir_.path() / "fresh";
  EXPECT_EQ(Apply("oci:" + fresh.string() + ":v2").manifest, new_digest_);
  EXPECT_EQ(Snapshot(dir_.path() / "site"), before);
  auto store = storage::OpenStore(storage::Reference::Parse("oci:" + fresh.string()), {}, false);
  for (const image::Descriptor& d : image::Manifest::Parse(store->ReadManifest("v2")).layers) {
    storage::VerifyingReader check(store->OpenBlob(d.digest), d.digest, d.size, d.digest.str());
    EXPECT_NO_THROW(ReadAll(check));
  }
}

TEST_F(ApplyTest, DamagedPresentLayerCreatesNothingInAnotherStore) {
  MakePair(true);
  Diff();
  DamageSiteLayer(0);
  fs::path fresh = dir_.path() / "fresh";
  EXPECT_EQ(KindOf([&] { Apply("oci:" + fresh.string() + ":v2"); }), Error::Kind::kCorruption);
  EXPECT_FALSE(fs::exists(fresh));
}

// Records the reports, failing on a unit begun inside another (two layers on one line).
class NestingCheckProgress : public sync::Progress {
 public:
  void Begin(const std::string& label, uint64_t) override {
    std::lock_guard lock(mu_);
    EXPECT_FALSE(open_) << label << " begun while another layer reports";
    open_ = true;
    ++units_;
  }
  void Advance(uint64_t) override {
    std::lock_guard lock(mu_);
    EXPECT_TRUE(open_) << "progress outside a unit";
  }
  void End() override {
    std::lock_guard lock(mu_);
    EXPECT_TRUE(open_);
    open_ = false;
  }
  int units() const { return units_; }

 private:
  std::mutex mu_;
  bool open_ = false;
  int units_ = 0;
};

// Defect 12.3: an image repeating one layer 100 times, in a bundle that names the site's base
// layer once per target layer (100 entries in its bases), stages the base and the layer once.
TEST_F(ApplyTest, BaseAndLayerNamedManyTimesAreStagedOnce) {
  Files base = BaseFiles();
  std::string hub = "oci:" + (dir_.path() / "hub").string();
  WriteImage(hub + ":v1", {{base, true}});
  WriteImage(hub + ":v2", std::vector<TestLayer>(100, TestLayer{base, true}));
  WriteImage("oci:" + (dir_.path() / "site").string() + ":v1", {{base, true}});
  Diff();
  uint64_t blob = 0;
  {
    protocol::BundleReader made(bundle_);
    protocol::Header h = made.header();
    std::string manifest = made.ReadDocument(h.manifest, "manifest");
    std::string config = made.ReadDocument(h.config, "config");
    TempDir spool(dir_.path(), "spool-");
    protocol::BundleWriter w(spool.path());
    h.manifest.payload = w.AppendZstd(manifest);
    h.config.payload = w.AppendZstd(config);
    ASSERT_EQ(h.bases.size(), 1u);
    h.bases.assign(h.layers.size(), h.bases[0]);
    for (size_t i = 0; i < h.layers.size(); ++i) {
      ASSERT_EQ(h.layers[i].method, protocol::Method::kPresent);
      h.layers[i].base = i;
    }
    blob = h.layers[0].size;
    w.Finish(h, bundle_, nullptr);
  }
  ApplyReport r = Apply("oci:" + (dir_.path() / "other").string() + ":v2");
  EXPECT_GT(r.staged_bytes, 0u);
  EXPECT_LE(r.staged_bytes, 2 * blob);  // 100 copies before
  auto store = storage::OpenStore(storage::Reference::Parse("oci:" + (dir_.path() / "other").string()), {}, false);
  EXPECT_EQ(image::Manifest::Parse(store->ReadManifest("v2")).layers.size(), 100u);
}

TEST_F(ApplyTest, ConcurrentLayersReportOneAtATimeOnTheProgressLine) {
  MakePair(true);
  Diff();
  NestingCheckProgress progress;
  ApplyOptions o;
  o.bundle = bundle_;
  o.bases = {storage::Reference::Parse("oci:" + (dir_.path() / "site").string() + ":v1")};
  o.into = storage::Reference::Parse(SiteInto());
  o.scratch = dir_.path();
  o.progress = &progress;
  EXPECT_EQ(sync::Apply(o).manifest, new_digest_);
  EXPECT_GE(progress.units(), 1);
}

}  // namespace
}  // namespace outpost::sync
