#include "storage/oci_layout_store.h"

#include <gtest/gtest.h>

#include "common/error.h"
#include "common/file.h"
#include "tests/support/images.h"
#include "tests/support/matchers.h"

namespace outpost::storage {
namespace {

using outpost::testing::KindOf;

using testing::MakeImage;
using testing::WriteImage;

size_t CountFiles(const fs::path& dir) {
  size_t n = 0;
  for (auto it = fs::recursive_directory_iterator(dir); it != fs::recursive_directory_iterator(); ++it) {
    n += it->is_regular_file();
  }
  return n;
}

TEST(OciLayoutStoreTest, WrittenImageReadsBackByTagAndDigest) {
  TempDir dir;
  testing::TestImage img = MakeImage(2);
  WriteImage(*OpenOciLayoutForWrite(dir.path() / "layout"), img, "v1");
  auto store = OpenOciLayout(OpenDirectoryTree(dir.path() / "layout"));
  EXPECT_EQ(store->ListTags(), std::vector<std::string>{"v1"});
  EXPECT_EQ(store->ReadManifest("v1").bytes, img.manifest.bytes);
  EXPECT_EQ(store->ReadManifest("").digest, img.manifest.digest);
  EXPECT_EQ(store->ReadManifest(img.manifest.digest.str()).digest, img.manifest.digest);
  EXPECT_EQ(ReadAll(*store->OpenBlob(Digest::Of(img.layers[1]), 5)), img.layers[1].substr(5));
  EXPECT_EQ(KindOf([&] { store->ReadManifest("v2"); }), Error::Kind::kNotFound);
}

TEST(OciLayoutStoreTest, RetaggingReplacesTheOldEntry) {
  TempDir dir;
  auto store = OpenOciLayoutForWrite(dir.path());
  WriteImage(*store, MakeImage(1, "amd64"), "v1");
  testing::TestImage second = MakeImage(1, "arm64");
  WriteImage(*store, second, "v1");
  EXPECT_EQ(store->ReadManifest("v1").digest, second.manifest.digest);
  EXPECT_EQ(store->ListTags().size(), 1u);
}

TEST(OciLayoutStoreTest, BlobWithWrongDigestLeavesNothingBehind) {
  TempDir dir;
  auto store = OpenOciLayoutForWrite(dir.path());
  size_t before = CountFiles(dir.path());
  StringReader content("not what was promised");
  std::string message;
  EXPECT_EQ(KindOf([&] { store->WriteBlob(Digest::Of("other"), 21, content); }, &message), Error::Kind::kCorruption);
  EXPECT_NE(message.find(Digest::Of("other").str()), std::string::npos);
  EXPECT_NE(message.find(Digest::Of("not what was promised").str()), std::string::npos);
  EXPECT_EQ(CountFiles(dir.path()), before);
  EXPECT_FALSE(store->HasBlob(Digest::Of("other")));
}

TEST(OciLayoutStoreTest, AdoptedBlobIsMovedInWithoutACopy) {
  TempDir dir;
  auto store = OpenOciLayoutForWrite(dir.path() / "layout");
  fs::path staged = dir.path() / "staged";
  WriteFileAtomic(staged, "layer bytes");
  store->AdoptBlob(Digest::Of("layer bytes"), 11, staged);
  EXPECT_FALSE(fs::exists(staged));
  EXPECT_EQ(ReadAll(*store->OpenBlob(Digest::Of("layer bytes"))), "layer bytes");
}

TEST(OciLayoutStoreTest, AdoptingABlobTheStoreHoldsLeavesTheStagedFile) {
  TempDir dir;
  auto store = OpenOciLayoutForWrite(dir.path() / "layout");
  StringReader content("layer bytes");
  store->WriteBlob(Digest::Of("layer bytes"), 11, content);
  fs::path staged = dir.path() / "staged";
  WriteFileAtomic(staged, "layer bytes");
  store->AdoptBlob(Digest::Of("layer bytes"), 11, staged);
  EXPECT_TRUE(fs::exists(staged));
  EXPECT_EQ(ReadAll(*store->OpenBlob(Digest::Of("layer bytes"))), "layer bytes");
}

TEST(OciLayoutStoreTest, AdoptedFileOfTheWrongSizeIsRefusedAndLeavesNothing) {
  TempDir dir;
  auto store = OpenOciLayoutForWrite(dir.path() / "layout");
  size_t before = CountFiles(dir.path() / "layout");
  fs::path staged = dir.path() / "staged";
  WriteFileAtomic(staged, "short");
  EXPECT_EQ(KindOf([&] { store->AdoptBlob(Digest::Of("layer bytes"), 11, staged); }), Error::Kind::kCorruption);
  EXPECT_EQ(CountFiles(dir.path() / "layout"), before);
  EXPECT_FALSE(store->HasBlob(Digest::Of("layer bytes")));
}

TEST(OciLayoutStoreTest, ManifestBeforeItsBlobsIsRefused) {
  TempDir dir;
  auto store = OpenOciLayoutForWrite(dir.path());
  testing::TestImage img = MakeImage(1);
  EXPECT_EQ(KindOf([&] { store->WriteManifest(img.manifest, "v1"); }), Error::Kind::kNotFound);
  EXPECT_TRUE(store->ListTags().empty());
}

TEST(OciLayoutStoreTest, MalformedIndexJsonIsCorruptionNamingTheFile) {
  TempDir dir;
  WriteImage(*OpenOciLayoutForWrite(dir.path()), MakeImage(1), "v1");
  WriteFileAtomic(dir.path() / "index.json", "{\"manifests\": [");
  auto store = OpenOciLayout(OpenDirectoryTree(dir.path()));
  std::string message;
  EXPECT_EQ(KindOf([&] { store->ReadManifest("v1"); }, &message), Error::Kind::kCorruption);
  EXPECT_NE(message.find("index.json"), std::string::npos);
}

TEST(OciLayoutStoreTest, DirectoryWithoutOciLayoutFileIsRefused) {
  TempDir dir;
  EXPECT_EQ(KindOf([&] { OpenOciLayout(OpenDirectoryTree(dir.path())); }), Error::Kind::kCorruption);
}

TEST(OciLayoutStoreTest, ManifestWithUnknownMediaTypeIsUnsupported) {
  TempDir dir;
  auto store = OpenOciLayoutForWrite(dir.path());
  std::string doc = R"({"schemaVersion":2,"mediaType":"application/x-strange","config":{}})";
  WriteFileAtomic(dir.path() / "blobs/sha256" / Digest::Of(doc).hex(), doc);
  WriteFileAtomic(dir.path() / "index.json",
                  R"({"schemaVersion":2,"manifests":[{"mediaType":"application/x-strange","digest":")" +
                      Digest::Of(doc).str() + R"(","size":)" + std::to_string(doc.size()) +
                      R"(,"annotations":{"org.opencontainers.image.ref.name":"v1"}}]})");
  EXPECT_EQ(KindOf([&] { store->ReadManifest("v1"); }), Error::Kind::kUnsupported);
}

TEST(OciLayoutStoreTest, SymlinkPointingOutsideTheLayoutIsASecurityError) {
  TempDir dir;
  testing::TestImage img = MakeImage(1);
  WriteImage(*OpenOciLayoutForWrite(dir.path() / "layout"), img, "v1");
  fs::path blob = dir.path() / "layout/blobs/sha256" / Digest::Of(img.layers[0]).hex();
  WriteFileAtomic(dir.path() / "outside", img.layers[0]);
  fs::remove(blob);
  fs::create_symlink(dir.path() / "outside", blob);
  auto store = OpenOciLayout(OpenDirectoryTree(dir.path() / "layout"));
  std::string message;
  EXPECT_EQ(KindOf([&] { store->OpenBlob(Digest::Of(img.layers[0]), 0); }, &message), Error::Kind::kSecurity);
  EXPECT_NE(message.find(blob.filename().string()), std::string::npos);
}

TEST(VerifyingReaderTest, MismatchNamesBothDigests) {
  VerifyingReader r(std::make_unique<StringReader>("abc"), Digest::Of("abd"), 3, "blob X");
  std::string message;
  EXPECT_EQ(KindOf([&] { ReadAll(r); }, &message), Error::Kind::kCorruption);
  EXPECT_NE(message.find(Digest::Of("abc").str()), std::string::npos);
  EXPECT_NE(message.find(Digest::Of("abd").str()), std::string::npos);
}

TEST(VerifyingReaderTest, ShortStreamIsCorruption) {
  VerifyingReader r(std::make_unique<StringReader>("abc"), Digest::Of("abc"), 4, "blob X");
  EXPECT_EQ(KindOf([&] { ReadAll(r); }), Error::Kind::kCorruption);
  VerifyingReader ok(std::make_unique<StringReader>("abc"), Digest::Of("abc"), 3, "blob X");
  EXPECT_EQ(ReadAll(ok), "abc");
}

}  // namespace
}  // namespace outpost::storage
