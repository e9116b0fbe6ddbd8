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
  return dir != nullptr ? dir : "/var/cache/outpost/debs";
}

std::string Quoted(const std::filesystem::path& p) { return "'" + p.string() + "'"; }

// The .deb of `package` in the cache's `folder` (new/ or old/): the one file named
// PACKAGE_*.deb, or the pattern itself when there is none (MissingDebs names it).
std::string Deb(const std::string& folder, const std::string& package) {
  std::filesystem::path dir = Cache() / folder;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    std::string name = entry.path().filename().string();
    if (name.rfind(package + "_", 0) == 0 && name.ends_with(".deb")) return entry.path().string();
  }
  return (dir / (package + "_*.deb")).string();
}

}  // namespace

std::vector<std::vector<std::string>> StoryDebs(const std::string& version) {
  std::vector<std::string> base{Deb("new", "perl-base"), Deb("new", "perl-modules-5.36"), Deb("new", "libssl3")};
  std::vector<std::string> app;
  for (const char* p : {"haproxy", "postgresql-client-15", "libpq5", "systemd", "libsystemd-shared", "mariadb-client"}) {
    app.push_back(Deb("new", p));
  }
  const bool v1 = version == "1.0.0";
  const char* updated = v1 ? "old" : "new";
  app.push_back(Deb(updated, "apache2-utils"));
  app.push_back(Deb(updated, "libgpgme11"));
  app.push_back(Deb(version == "3.0.0" ? "new" : "old", "libzstd-dev"));
  if (!v1) app.push_back(Deb("new", "redis-tools"));
  return {base, app};
}

std::vector<std::string> MissingDebs(const std::vector<std::vector<std::string>>& layers) {
  std::vector<std::string> missing;
  for (const auto& layer : layers) {
    for (const std::string& deb : layer) {
      if (!std::filesystem::exists(deb)) missing.push_back(deb);
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
  for (const std::string& deb : debs) command += "; dpkg-deb -x " + Quoted(deb) + " " + Quoted(root);
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
