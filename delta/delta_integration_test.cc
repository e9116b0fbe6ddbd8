// Layer deltas on real Debian content packed by GNU tar: shared libraries with patched bytes,
// changelog.Debian.gz files, symlinks and PAX long names.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>

#include "common/error.h"
#include "common/file.h"
#include "delta/layer_delta.h"

namespace outpost::delta {
namespace {

void Sh(const std::string& command) { ASSERT_EQ(std::system(command.c_str()), 0) << command; }

// Flips every 4096th byte of `path` from `from` on (a "security fix").
void Patch(const fs::path& path, size_t from) {
  std::string bytes = ReadFileToString(path, 1 << 30);
  for (size_t i = from; i < bytes.size(); i += 4096) bytes[i] = static_cast<char>(bytes[i] ^ 0x5a);
  WriteFileAtomic(path, bytes);
}

class RealLayers : public ::testing::TestWithParam<std::string> {};

TEST_P(RealLayers, RoundTripExactlyAndBeatCompression) {
  TempDir dir;
  fs::path v1 = dir.path() / "v1", v2 = dir.path() / "v2";
  std::string lib = "/usr/lib/x86_64-linux-gnu/";
  Sh("mkdir -p " + v1.string() + "/lib " + v1.string() + "/doc/" + std::string(120, 'p'));
  Sh("cp -L " + lib + "libzstd.so.1 " + lib + "libz.so.1 " + lib + "libsqlite3.so.0 " + v1.string() + "/lib/");
  Sh("cp /usr/share/doc/libzstd1/changelog.Debian.gz " + v1.string() + "/doc/");
  Sh("cp /usr/share/doc/tar/changelog.Debian.gz " + v1.string() + "/doc/" + std::string(120, 'p') + "/");
  Sh("ln -s libz.so.1 " + v1.string() + "/lib/libz.so");
  Sh("cp -a " + v1.string() + " " + v2.string());
  Patch(v2 / "lib/libsqlite3.so.0", 100000);
  Sh("rm " + v2.string() + "/lib/libz.so.1 && mv " + v2.string() + "/lib/libzstd.so.1 " + v2.string() + "/lib/libzstd.so.1.5");
  Sh("cp /usr/share/doc/gzip/changelog.Debian.gz " + v2.string() + "/doc/changelog.Debian.gz");
  Sh("head -c 5000 /usr/share/common-licenses/GPL-3 > " + v2.string() + "/doc/NEW");
  Sh("touch -d @1700000000 " + v2.string() + "/lib/*");
  for (const char* v : {"v1", "v2"}) {
    Sh("cd " + dir.path().string() + "/" + v + " && tar --format=" + GetParam() +
       " --sort=name -cf ../" + v + ".tar .");
  }
  RandomAccessFile base(dir.path() / "v1.tar");
  FileReader target(dir.path() / "v2.tar");
  StringWriter delta;
  EncodeOptions options;
  options.zstd_level = 9;
  LayerDeltaStats stats = EncodeLayerDelta(base, target, delta, options);
  EXPECT_GE(stats.copied_entries, 2u);  // the moved libzstd and an unchanged changelog
  EXPECT_GE(stats.delta_entries, 1u);   // libsqlite3
  StringReader delta_in(delta.str());
  HashingWriter out;
  EXPECT_EQ(ApplyLayerDelta(base, delta_in, out), stats.target_digest);
  std::string target_bytes = ReadFileToString(dir.path() / "v2.tar", 1 << 30);
  EXPECT_EQ(stats.target_digest, Digest::Of(target_bytes));
  EXPECT_LT(delta.str().size(), 60000u) << "bytes: " << delta.str().size();
}

INSTANTIATE_TEST_SUITE_P(GnuTar, RealLayers, ::testing::Values("gnu", "posix"));

}  // namespace
}  // namespace outpost::delta
