#include "tests/link/debian_image.h"

#include <cstdlib>

#include "common/error.h"
#include "common/file.h"
#include "tests/support/command.h"

namespace outpost::testing {
namespace {

// The corpus's v1 build time (2026-10-01T00:00:00Z): later file and folder times are clamped
// to it, so a file unchanged between two versions is the same tar entry in both.
constexpr const char* kBuildTime = "@1790812800";

std::filesystem::path Cache() {
  const char* dir = std::getenv("OUTPOST_DEBS");
  return dir != nullptr ? dir : "/var/cache/apt/archives";
}

std::string Quoted(const std::filesystem::path& p) { return "'" + p.string() + "'"; }

}  // namespace

std::vector<std::vector<std::string>> StoryDebs(const std::string& version) {
  std::vector<std::string> base{"perl-base_5.36.0-7+deb12u4_amd64.deb", "perl-modules-5.36_5.36.0-7+deb12u4_all.deb",
                                "libssl3_3.0.22-1~deb12u1_amd64.deb"};
  std::vector<std::string> app{"haproxy_2.6.12-1+deb12u3_amd64.deb",
                               "postgresql-client-15_15.19-0+deb12u1_amd64.deb",
                               "libpq5_15.19-0+deb12u1_amd64.deb",
                               "systemd_252.39-1~deb12u2_amd64.deb",
                               "libsystemd-shared_252.39-1~deb12u2_amd64.deb",
                               "mariadb-client_1%3a10.11.19-0+deb12u1_amd64.deb"};
  const bool v1 = version == "1.0.0";
  app.push_back(v1 ? "apache2-utils_2.4.68-1~deb12u1_amd64.deb" : "apache2-utils_2.4.71-1~deb12u1_amd64.deb");
  app.push_back(v1 ? "libgpgme11_1.18.0-3+b1_amd64.deb" : "libgpgme11_1.18.0-3+deb12u1_amd64.deb");
  app.push_back(version == "3.0.0" ? "libzstd-dev_1.5.4+dfsg2-5+deb12u1_amd64.deb" : "libzstd-dev_1.5.4+dfsg2-5_amd64.deb");
  if (!v1) app.push_back("redis-tools_5%3a7.0.15-1~deb12u10_amd64.deb");
  return {base, app};
}

std::vector<std::string> MissingDebs(const std::vector<std::vector<std::string>>& layers) {
  std::vector<std::string> missing;
  for (const auto& layer : layers) {
    for (const std::string& deb : layer) {
      if (!std::filesystem::exists(Cache() / deb)) missing.push_back((Cache() / deb).string());
    }
  }
  return missing;
}

TestLayer DebLayer(const std::vector<std::string>& debs, const std::filesystem::path& scratch) {
  std::filesystem::path root = scratch / "rootfs";
  std::filesystem::path tar = scratch / "layer.tar";
  std::filesystem::remove_all(root);
  std::filesystem::create_directories(root);
  std::string command = "set -e";
  for (const std::string& deb : debs) command += "; dpkg-deb -x " + Quoted(Cache() / deb) + " " + Quoted(root);
  command += std::string("; tar --sort=name --owner=0 --group=0 --numeric-owner --mtime=") + kBuildTime +
             " --clamp-mtime -C " + Quoted(root) + " -cf " + Quoted(tar) + " $(ls -A " + Quoted(root) + ")";
  RunResult r = RunCommand(command);
  if (r.exit_code != 0) throw IOError("cannot build a layer of Debian packages: ", command, ": ", r.err);
  TestLayer layer;
  layer.raw_tar = ReadFileToString(tar, std::filesystem::file_size(tar));
  std::filesystem::remove_all(root);
  std::filesystem::remove(tar);
  return layer;
}

TestImage StoryImage(const std::string& version, const std::filesystem::path& scratch) {
  std::vector<TestLayer> layers;
  for (const auto& debs : StoryDebs(version)) layers.push_back(DebLayer(debs, scratch));
  return BuildImage(layers);
}

}  // namespace outpost::testing
