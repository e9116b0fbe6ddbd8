// Interop with the independent tools: images written by skopeo (from a umoci-built layout) are
// read by `outpost inspect` with skopeo's digests, and what `outpost copy` writes is accepted
// by skopeo.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "common/digest.h"
#include "common/file.h"
#include "tests/support/command.h"

namespace outpost::cli {
namespace {

using Json = nlohmann::json;
using testing::OutpostBinary;
using testing::RunCommand;
using testing::RunResult;

class CopyCommandTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = tmp_.path().string();
    fs::create_directories(tmp_.path() / "root/etc");
    fs::create_directories(tmp_.path() / "root/bin");
    WriteFileAtomic(tmp_.path() / "root/etc/motd", "hello from a generated rootfs\n");
    std::string big;
    for (int i = 0; i < 20000; ++i) big += "line " + std::to_string(i * 7919 % 10007) + "\n";
    WriteFileAtomic(tmp_.path() / "root/bin/data", big);
    Sh("umoci init --layout " + dir_ + "/L && umoci new --image " + dir_ + "/L:t && umoci insert --image " + dir_ +
       "/L:t " + dir_ + "/root/etc /etc && umoci insert --image " + dir_ + "/L:t " + dir_ + "/root/bin /bin");
    Sh("skopeo copy -q oci:" + dir_ + "/L:t oci:" + dir_ + "/S:t");
    Sh("skopeo copy -q oci:" + dir_ + "/L:t docker-archive:" + dir_ + "/A.tar:img:t");
  }

  std::string Sh(const std::string& command) {
    RunResult r = RunCommand("timeout 120 " + command);
    EXPECT_EQ(r.exit_code, 0) << command << "\n" << r.err;
    return r.out;
  }

  Json Inspect(const std::string& ref) { return Json::parse(Sh(OutpostBinary() + " inspect --json " + ref)); }

  // Checks outpost's inspect of `ref` against skopeo's raw manifest of it.
  void ExpectSameAsSkopeo(const std::string& ref) {
    std::string raw = Sh("skopeo inspect --raw " + ref);
    Json manifest = Json::parse(raw);
    Json ours = Inspect(ref);
    EXPECT_EQ(ours["digest"], Digest::Of(raw).str()) << ref;
    EXPECT_EQ(ours["config"], manifest["config"]["digest"]) << ref;
    ASSERT_EQ(ours["layers"].size(), manifest["layers"].size()) << ref;
    for (size_t i = 0; i < manifest["layers"].size(); ++i) {
      EXPECT_EQ(ours["layers"][i]["digest"], manifest["layers"][i]["digest"]);
      EXPECT_EQ(ours["layers"][i]["size"], manifest["layers"][i]["size"]);
      EXPECT_EQ(ours["layers"][i]["media_type"], manifest["layers"][i]["mediaType"]);
    }
  }

  TempDir tmp_;
  std::string dir_;
};

TEST_F(CopyCommandTest, InspectOfSkopeosOciLayoutGivesSkopeosDigests) {
  ExpectSameAsSkopeo("oci:" + dir_ + "/S:t");
  Json index = Json::parse(ReadFileToString(tmp_.path() / "S/index.json"));
  Json ours = Inspect("oci:" + dir_ + "/S:t");
  EXPECT_EQ(ours["digest"], index["manifests"][0]["digest"]);
  for (const Json& layer : ours["layers"]) {
    EXPECT_EQ(layer["compression"], "gzip");
    EXPECT_TRUE(layer["diff_id"].get<std::string>().starts_with("sha256:"));
    EXPECT_TRUE(fs::exists(tmp_.path() / "S/blobs/sha256" / layer["digest"].get<std::string>().substr(7)));
  }
}

TEST_F(CopyCommandTest, InspectOfSkopeosDockerArchiveGivesSkopeosDigests) {
  ExpectSameAsSkopeo("docker-archive:" + dir_ + "/A.tar");
}

TEST_F(CopyCommandTest, OciToOciKeepsEveryDigestAndSkopeoReadsIt) {
  Sh(OutpostBinary() + " copy --quiet oci:" + dir_ + "/S:t oci:" + dir_ + "/O:t");
  EXPECT_EQ(Sh("skopeo inspect --raw oci:" + dir_ + "/O:t"), Sh("skopeo inspect --raw oci:" + dir_ + "/S:t"));
  Sh("skopeo copy -q oci:" + dir_ + "/O:t oci:" + dir_ + "/Z:t");
  for (const auto& blob : fs::directory_iterator(tmp_.path() / "S/blobs/sha256")) {
    fs::path copy = tmp_.path() / "O/blobs/sha256" / blob.path().filename();
    ASSERT_TRUE(fs::exists(copy)) << copy;
    EXPECT_EQ(ReadFileToString(copy), ReadFileToString(blob.path()));
  }
}

TEST_F(CopyCommandTest, IntoDockerArchiveSkopeoLoadsItAndTheImageIdIsKept) {
  RunResult r = RunCommand(OutpostBinary() + " copy oci:" + dir_ + "/S:t docker-archive:" + dir_ + "/D.tar:img:t");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("image ID"), std::string::npos) << r.err;
  Sh("skopeo inspect docker-archive:" + dir_ + "/D.tar");
  ExpectSameAsSkopeo("docker-archive:" + dir_ + "/D.tar");
  Json original = Json::parse(Sh("skopeo inspect --raw oci:" + dir_ + "/S:t"));
  Json archived = Json::parse(Sh("skopeo inspect --raw docker-archive:" + dir_ + "/D.tar"));
  EXPECT_EQ(archived["config"]["digest"], original["config"]["digest"]);
  Sh("skopeo copy -q docker-archive:" + dir_ + "/D.tar oci:" + dir_ + "/Y:t");
  // Without a format conversion (which rewrites the config, for skopeo's own archives too) skopeo
  // hands the config over byte for byte.
  Sh("skopeo copy -q --format v2s2 docker-archive:" + dir_ + "/D.tar dir:" + dir_ + "/Y2");
  std::string config_hex = original["config"]["digest"].get<std::string>().substr(7);
  EXPECT_EQ(Digest::Of(ReadFileToString(tmp_.path() / "Y2" / config_hex)), Digest::Parse(original["config"]["digest"].get<std::string>()));
}

TEST_F(CopyCommandTest, ZstdLayersAreDecompressedIntoADockerArchive) {
  Sh("skopeo copy -q --dest-compress-format zstd oci:" + dir_ + "/L:t oci:" + dir_ + "/Zs:t");
  Json zstd = Inspect("oci:" + dir_ + "/Zs:t");
  EXPECT_EQ(zstd["layers"][0]["compression"], "zstd");
  Sh(OutpostBinary() + " copy -q oci:" + dir_ + "/Zs:t docker-archive:" + dir_ + "/DZ.tar:img:z");
  Sh("skopeo copy -q docker-archive:" + dir_ + "/DZ.tar oci:" + dir_ + "/YZ:t");
  EXPECT_EQ(Json::parse(Sh("skopeo inspect --raw docker-archive:" + dir_ + "/DZ.tar"))["config"]["digest"], zstd["config"]);
}

TEST_F(CopyCommandTest, DockerArchiveToOciWritesAnOciManifestOverTheSameBlobs) {
  Sh(OutpostBinary() + " copy -q docker-archive:" + dir_ + "/A.tar oci:" + dir_ + "/E:t");
  Json ours = Json::parse(Sh("skopeo inspect --raw oci:" + dir_ + "/E:t"));
  Json archive = Json::parse(Sh("skopeo inspect --raw docker-archive:" + dir_ + "/A.tar"));
  EXPECT_EQ(ours["mediaType"], "application/vnd.oci.image.manifest.v1+json");
  EXPECT_EQ(ours["config"]["digest"], archive["config"]["digest"]);
  ASSERT_EQ(ours["layers"].size(), archive["layers"].size());
  for (size_t i = 0; i < ours["layers"].size(); ++i) {
    EXPECT_EQ(ours["layers"][i]["digest"], archive["layers"][i]["digest"]);
    EXPECT_EQ(ours["layers"][i]["mediaType"], "application/vnd.oci.image.layer.v1.tar");
  }
  Sh("skopeo copy -q oci:" + dir_ + "/E:t oci:" + dir_ + "/E2:t");
}

}  // namespace
}  // namespace outpost::cli
