// Walks every image under $OUTPOST_FIXTURES (real images from public projects) and inspects it
// with every blob verified. Skipped when OUTPOST_FIXTURES is unset.
#include <gtest/gtest.h>

#include <cstdlib>
#include <map>
#include <set>

#include "common/error.h"
#include "storage/docker_archive_store.h"
#include "storage/file_tree.h"
#include "storage/inspect.h"
#include "storage/oci_layout_store.h"

namespace outpost::storage {
namespace {

namespace fs = std::filesystem;

struct Outcome {
  std::string image;                  // reference text
  std::string error;                  // a failure to read the image at all
  std::vector<std::string> problems;  // blob-level problems
};

Outcome InspectOne(ImageStore& store, const std::string& image, const std::string& selector) {
  Outcome o{image, "", {}};
  try {
    o.problems = Inspect(store, selector, {}).problems;
  } catch (const Error& e) {
    o.error = e.what();
  }
  return o;
}

bool IsArchiveName(const fs::path& p) {
  std::string n = p.filename().string();
  return n.ends_with(".tar") || n.ends_with(".tar.gz") || n.ends_with(".tgz");
}

// Inspects every image of tar `file`: as a docker-archive when it has manifest.json (each image
// in turn), and as an oci-archive when it has an OCI layout. Non-image tars are skipped.
void WalkArchive(const fs::path& file, const fs::path& root, std::vector<Outcome>* out, int* skipped) {
  std::string rel = fs::relative(file, root).string();
  std::unique_ptr<FileTree> tree;
  try {
    tree = OpenTarTree(file);
  } catch (const Error& e) {
    out->push_back({"archive:" + rel, e.what(), {}});
    return;
  }
  bool docker = tree->Size("manifest.json").has_value();
  bool oci = LooksLikeOciLayout(*tree);
  if (!docker && !oci) {
    ++*skipped;
    return;
  }
  if (docker) {
    try {
      auto store = OpenDockerArchive(file);
      for (int i = 0;; ++i) {
        try {
          store->ReadManifest("@" + std::to_string(i));
        } catch (const Error&) {
          break;
        }
        out->push_back(InspectOne(*store, "docker-archive:" + rel + ":@" + std::to_string(i), "@" + std::to_string(i)));
      }
    } catch (const Error& e) {
      out->push_back({"docker-archive:" + rel, e.what(), {}});
    }
  }
  if (oci) {
    auto store = OpenOciLayout(OpenTarTree(file));
    out->push_back(InspectOne(*store, "oci-archive:" + rel, ""));
  }
}

std::vector<Outcome> WalkFixtures(const fs::path& root, int* skipped) {
  std::vector<Outcome> out;
  for (auto it = fs::recursive_directory_iterator(root); it != fs::recursive_directory_iterator(); ++it) {
    if (it->is_directory() && fs::exists(it->path() / "oci-layout")) {
      auto store = OpenOciLayout(OpenDirectoryTree(it->path()));
      out.push_back(InspectOne(*store, "oci:" + fs::relative(it->path(), root).string(), ""));
      it.disable_recursion_pending();
    } else if (it->is_regular_file() && IsArchiveName(it->path())) {
      WalkArchive(it->path(), root, &out, skipped);
    }
  }
  return out;
}

// Images that upstream trimmed or edited by hand, with the reason outpost must give.
const std::map<std::string, std::string> kExpectedFailures = {
    {"oci:go-containerregistry/pkg/v1/layout/testdata/test_gc_image_unknown_mediatype", "missing"},
    {"oci-archive:snyk-docker-plugin/test/fixtures/oci-archives/alpine-3.12.0.tar", "digest is"},
    {"oci-archive:snyk-docker-plugin/test/fixtures/oci-archives/nginx.tar", "digest is"},
    {"oci-archive:snyk-docker-plugin/test/fixtures/oci-archives/oci-with-manifest.tar", "digest is"},
    {"docker-archive:snyk-docker-plugin/test/fixtures/oci-archives/oci-with-manifest.tar", "diff_ids"},
    {"docker-archive:snyk-docker-plugin/test/fixtures/docker-archives/docker-save/nginx.tar", "diff_ids"},
    {"docker-archive:snyk-docker-plugin/test/fixtures/docker-archives/docker-save/nginx-with-buildinfo.tar", "diff_ids"},
    {"docker-archive:snyk-docker-plugin/test/fixtures/docker-archives/docker-save/nginx-os-release-link.tar", "diff_ids"},
    {"docker-archive:snyk-docker-plugin/test/fixtures/docker-archives/docker-save/dockergoof.tar", "diff_ids"},
    {"docker-archive:snyk-docker-plugin/test/fixtures/docker-archives/skopeo-copy/nginx.tar", "diff_ids"},
    {"docker-archive:snyk-docker-plugin/test/fixtures/docker-archives/skopeo-copy/nginx-compressed-layers.tar", "diff_ids"},
    {"docker-archive:snyk-docker-plugin/test/fixtures/docker-archives/docker-save/java.tar:@0", "digest is"},
    {"docker-archive:snyk-docker-plugin/test/fixtures/docker-archives/docker-save/java-windows.tar:@0", "digest is"},
    {"docker-archive:snyk-docker-plugin/test/fixtures/docker-archives/skopeo-copy/centos-6.tar:@0", "digest is"},
};

// The blobs in snyk's oci-archives whose bytes were edited by hand upstream.
const std::set<std::string> kEditedSnykBlobs = {
    "alpine-3.12.0.tar:blobs/sha256/df20fa9351a15782c64e6dddb2d4a6f50bf6d3688060a34c4014b0d9a752eb4c",
    "nginx.tar:blobs/sha256/e26d615025f594002683ea9b0104aeb886e0c383fcf96f9e372491beb17678e6",
    "nginx.tar:blobs/sha256/dd3ac8106a0bbe43a6e55d2b719fc00a2f8f694e90c7903403e8fdecd2ccc57f",
    "nginx.tar:blobs/sha256/8de28bdda69b66a8e07b14f03a9762f508bc4caac35cef9543bad53503ce5f53",
    "oci-with-manifest.tar:blobs/sha256/23884877105a7ff84a910895cd044061a4561385ff6c36480ee080b76ec0e771",
};

TEST(FixturesTest, EveryImageIsReadAndVerifiedAndOnlyKnownBadOnesFail) {
  const char* root = std::getenv("OUTPOST_FIXTURES");
  if (root == nullptr) GTEST_SKIP() << "OUTPOST_FIXTURES is not set";
  int skipped = 0;
  std::vector<Outcome> outcomes = WalkFixtures(root, &skipped);
  int verified = 0;
  std::set<std::string> failed;
  for (const Outcome& o : outcomes) {
    if (o.error.empty() && o.problems.empty()) {
      ++verified;
      continue;
    }
    failed.insert(o.image);
    std::string all = o.error;
    for (const std::string& p : o.problems) all += "\n" + p;
    auto expected = kExpectedFailures.find(o.image);
    if (expected == kExpectedFailures.end()) {
      ADD_FAILURE() << o.image << " failed unexpectedly:" << all;
    } else {
      EXPECT_NE(all.find(expected->second), std::string::npos) << o.image << ":" << all;
    }
  }
  for (const auto& [image, reason] : kExpectedFailures) EXPECT_TRUE(failed.count(image)) << image << " did not fail";
  EXPECT_GT(verified, 60);
  std::printf("fixtures: %zu images, %d verified, %zu known bad, %d non-image tars skipped\n", outcomes.size(),
              verified, failed.size(), skipped);
}

TEST(FixturesTest, ExactlyTheHandEditedSnykBlobsAreMismatches) {
  const char* root = std::getenv("OUTPOST_FIXTURES");
  if (root == nullptr) GTEST_SKIP() << "OUTPOST_FIXTURES is not set";
  fs::path dir = fs::path(root) / "snyk-docker-plugin/test/fixtures/oci-archives";
  std::set<std::string> mismatches;
  for (const auto& entry : fs::directory_iterator(dir)) {
    auto store = OpenOciLayout(OpenTarTree(entry.path()));
    for (const std::string& p : Inspect(*store, "", {}).problems) {
      if (p.find(": digest is ") == std::string::npos) continue;
      std::string file = p.substr(0, p.find(": digest is "));
      mismatches.insert(fs::path(file.substr(0, file.find(':'))).filename().string() + file.substr(file.find(':')));
    }
  }
  EXPECT_EQ(mismatches, kEditedSnykBlobs);
}

}  // namespace
}  // namespace outpost::storage
