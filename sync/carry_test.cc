#include "sync/carry.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/error.h"
#include "common/file.h"
#include "sync/apply.h"
#include "sync/diff.h"
#include "sync/test_images.h"
#include "tests/support/matchers.h"

namespace outpost::sync {
namespace {

namespace fs = std::filesystem;
using outpost::testing::Files;
using outpost::testing::WriteImage;

// A layout "hub" with images v1, v2 and other, a cosign-style signature of v2 and indexes; a
// layout "site" holding v1.
class CarryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Files base = {{"bin/tool", std::string(20000, 'b')}};
    v1_ = WriteImage(Hub(":v1"), {{base, true}});
    v2_ = WriteImage(Hub(":v2"), {{base, true}, {{{"app/x", "two"}}, true}});
    other_ = WriteImage(Hub(":other"), {{{{"app/y", "other"}}, true}});
    WriteImage(Site(":v1"), {{base, true}});
    hub_ = storage::OpenStore(storage::Reference::Parse(Hub("")), nullptr, true);
    sig_ = WriteSignature();
  }

  std::string Hub(const std::string& rest) const { return "oci:" + (dir_.path() / "hub").string() + rest; }
  std::string Site(const std::string& rest) const { return "oci:" + (dir_.path() / "site").string() + rest; }

  std::string Blob(const std::string& bytes) {
    Digest d = Digest::Of(bytes);
    StringReader in(bytes);
    hub_->WriteBlob(d, static_cast<int64_t>(bytes.size()), in);
    return "{\"mediaType\":\"application/vnd.oci.empty.v1+json\",\"digest\":\"" + d.str() +
           "\",\"size\":" + std::to_string(bytes.size()) + "}";
  }

  Digest WriteSignature() {
    std::string config = Blob("{}");
    std::string payload = Blob("{\"critical\":{\"image\":{\"docker-manifest-digest\":\"" + v2_.str() + "\"}}}");
    payload.replace(payload.find("application/vnd.oci.empty.v1+json"), 33, "application/vnd.dev.cosign.simplesigning.v1+json");
    image::ManifestBlob m = image::ManifestBlob::FromBytes(
        "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"config\":" + config +
        ",\"layers\":[" + payload + "]}");
    hub_->WriteManifest(m, SigTag());
    return m.digest;
  }

  Digest WriteIndex(const Digest& arm, const std::string& tag) {
    auto entry = [&](const Digest& d, const char* arch) {
      return "{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"" + d.str() + "\",\"size\":" +
             std::to_string(hub_->ReadManifest(d.str()).bytes.size()) + ",\"platform\":{\"os\":\"linux\",\"architecture\":\"" +
             arch + "\"}}";
    };
    image::ManifestBlob index = image::ManifestBlob::FromBytes(
        "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.index.v1+json\",\"manifests\":[" +
        entry(v2_, "amd64") + "," + entry(arm, "arm64") + "]}");
    hub_->WriteManifest(index, tag);
    return index.digest;
  }

  std::string SigTag() const { return "sha256-" + v2_.hex() + ".sig"; }

  // Diffs v2 (against v1) carrying `carry`, applies it into the site by digest.
  ApplyReport SyncV2(std::vector<Carry> carry) {
    DiffOptions d;
    d.from = {storage::Reference::Parse(Hub(":v1"))};
    d.to = storage::Reference::Parse(Hub("@" + v2_.str()));
    d.output = dir_.path() / "b.bundle";
    d.scratch = dir_.path();
    d.carry = std::move(carry);
    Diff(d);
    ApplyOptions a;
    a.bundle = d.output;
    a.bases = {storage::Reference::Parse(Site(":v1"))};
    a.into = storage::Reference::Parse(Site("@" + v2_.str()));
    a.scratch = dir_.path();
    a.carried_tag_prefix = "test:";
    return Apply(a);
  }

  storage::Reference At(const Digest& d) const { return storage::Reference::Parse(Hub("@" + d.str())); }

  TempDir dir_{fs::temp_directory_path(), "outpost-carry-"};
  Digest v1_, v2_, other_, sig_;
  std::unique_ptr<storage::ImageStore> hub_;
};

TEST_F(CarryTest, ASignatureTagArrivesWithTheImageItSignsUnderTheSameNameAndDigest) {
  ApplyReport report = SyncV2({{At(sig_), SigTag()}});
  EXPECT_EQ(report.tag, "");
  auto site = storage::OpenStore(storage::Reference::Parse(Site("")), nullptr, false);
  EXPECT_EQ(site->ReadManifest("test:" + SigTag()).digest, sig_);
  EXPECT_EQ(site->ReadManifest(v2_.str()).digest, v2_);
}

TEST_F(CarryTest, AnIndexIsTaggedOnlyWhenTheSiteHoldsEveryManifestItNames) {
  Digest full = WriteIndex(v1_, "multi");
  Digest partial = WriteIndex(other_, "partial");
  ApplyReport report = SyncV2({{At(full), "multi"}, {At(partial), "partial"}});
  auto site = storage::OpenStore(storage::Reference::Parse(Site("")), nullptr, false);
  EXPECT_EQ(site->ReadManifest("test:multi").digest, full);
  EXPECT_THAT([&] { site->ReadManifest("test:partial"); }, outpost::testing::ThrowsKind(Error::Kind::kNotFound));
  ASSERT_EQ(report.warnings.size(), 2u);  // the unsigned bundle, and the index left out
  EXPECT_THAT(report.warnings[1], ::testing::HasSubstr("lacks its manifest " + other_.str()));
}

}  // namespace
}  // namespace outpost::sync
