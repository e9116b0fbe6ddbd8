// Oracle tests: real encoders (Go's compress/gzip, klauspost pgzip, pigz, GNU gzip, Python's
// zlib, the zstd CLI) compress a tar of realistic content; probe must find a recipe and rebuild
// must give back identical bytes.
#include <gtest/gtest.h>

#include <cstdlib>
#include <ostream>
#include <string>
#include <vector>

#include "codec/deflate_family.h"
#include "codec/probe.h"
#include "codec/rebuild.h"
#include "common/error.h"
#include "common/file.h"

namespace outpost::codec {
namespace {

int Shell(const std::string& cmd) { return std::system(("set -e; " + cmd).c_str()); }

// A layer-like tar (built once per build tree and shared by the test processes): text, ELF
// binaries, already-compressed files, a run of zeros and many tiny files, about 8 MB.
fs::path CorpusTar() {
  fs::path dir = fs::path(OUTPOST_BINARY_DIR) / "codec_corpus";
  fs::path tar = dir / "corpus.tar";
  if (fs::exists(tar)) return tar;
  fs::create_directories(dir);
  TempDir tmp(dir);
  fs::path root = tmp.path() / "root";
  std::string r = root.string();
  EXPECT_EQ(Shell("mkdir -p " + r + "/bin " + r + "/doc " + r + "/text " + r + "/tiny " + r + "/zero;"
                  "cp /usr/bin/ls /usr/bin/cp /usr/bin/tar /usr/bin/gzip " + r + "/bin/;"
                  "ls /usr/share/doc/*/changelog.Debian.gz | head -150 | "
                  "  while read f; do cp \"$f\" " + r + "/doc/$(basename $(dirname $f)).gz; done;"
                  "cat /usr/include/*.h | head -c 2500000 > " + r + "/text/headers.txt;"
                  "head -c 1000000 /dev/zero > " + r + "/zero/zeros;"
                  "for i in $(seq 1 1500); do echo \"file $i $((i * 7919 % 1000))\" > " + r + "/tiny/f$i; done;"
                  "tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -cf " + (tmp.path() / "c.tar").string() +
                  " -C " + r + " ."),
            0);
  fs::rename(tmp.path() / "c.tar", tar);
  return tar;
}

// A 100 MB tar: one large file of mixed binaries, text and zeros.
fs::path BigTar() {
  fs::path dir = fs::path(OUTPOST_BINARY_DIR) / "codec_corpus";
  fs::path tar = dir / "big.tar";
  if (fs::exists(tar)) return tar;
  fs::path corpus = CorpusTar();
  TempDir tmp(dir);
  std::string r = tmp.path().string();
  EXPECT_EQ(Shell("mkdir " + r + "/root; (for i in $(seq 1 40); do cat /usr/bin/tar /usr/bin/ls; "
                  "head -c 1000000 " + corpus.string() + "; head -c 300000 /dev/zero; done) | head -c 100000000 > " +
                  r + "/root/big.bin; tar --mtime=@0 --owner=0 --group=0 -cf " + r + "/b.tar -C " + r + "/root ."),
            0);
  fs::rename(tmp.path() / "b.tar", tar);
  return tar;
}

struct OracleCase {
  std::string name;     // test name suffix
  std::string command;  // compresses $IN to $OUT
  std::string family;   // the deflate family (or "zstd") the recipe must name
};

// Names the case in test output instead of dumping its bytes.
void PrintTo(const OracleCase& c, std::ostream* os) { *os << c.command; }

bool Covered(const std::string& family) {
  if (family == "zstd") return true;
  for (const DeflateFamily& f : DeflateFamilies()) {
    if (f.name == family) return true;
  }
  return false;
}

void CheckOracle(const OracleCase& c, const fs::path& input) {
  ASSERT_TRUE(Covered(c.family)) << "encoder family '" << c.family
                                 << "' has oracle cases but is not in DeflateFamilies(): add it to "
                                 << "codec/deflate_family.cc";
  TempDir tmp;
  fs::path blob = tmp.path() / "blob";
  ASSERT_EQ(Shell("IN=" + input.string() + " OUT=" + blob.string() + "; " + c.command), 0) << c.command;
  ProbeResult r = Probe([&] { return std::make_unique<FileReader>(blob); });
  ASSERT_TRUE(r.exact) << c.command << ": " << r.reason;
  std::string family = r.recipe.compression == image::Compression::kZstd ? "zstd" : r.recipe.deflate.family;
  EXPECT_EQ(family, c.family) << r.recipe.str();
  FileReader tar(input);
  HashingWriter rebuilt;
  Rebuild(Recipe::Parse(r.recipe.str()), tar, rebuilt);
  EXPECT_EQ(rebuilt.count(), fs::file_size(blob));
  EXPECT_EQ(rebuilt.Finish(), r.blob_digest) << r.recipe.str();
}

std::vector<OracleCase> Cases() {
  std::vector<OracleCase> cases;
  const std::string go = GOFLATE_ORACLE, kp = KPFLATE_ORACLE;
  for (int l : {-2, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9}) {
    std::string n = l < 0 ? "m" + std::to_string(-l) : std::to_string(l);
    cases.push_back({"Go" + n, go + " -gzip -level " + std::to_string(l) + " < $IN > $OUT", "go"});
  }
  for (int l : {-1, 1, 2, 3, 4, 5, 6, 7, 8, 9}) {
    std::string n = l < 0 ? "Default" : std::to_string(l);
    cases.push_back({"Pgzip" + n, kp + " -pgzip -level " + std::to_string(l) + " < $IN > $OUT", "pgzip"});
  }
  cases.push_back({"Pigz6SingleThread", "pigz -6 -n -p 1 -c $IN > $OUT", "pigz"});
  cases.push_back({"Pigz6Threads", "pigz -6 -n -p 4 -c $IN > $OUT", "pigz"});
  cases.push_back({"Pigz1", "pigz -1 -n -c $IN > $OUT", "pigz"});
  cases.push_back({"Pigz9", "pigz -9 -c $IN > $OUT", "pigz"});
  for (int l = 1; l <= 9; ++l) {
    std::string s = std::to_string(l);
    cases.push_back({"Gzip" + s, "gzip -n -" + s + " -c $IN > $OUT", "gnu"});
    cases.push_back({"PythonGzip" + s,
                     "python3 -c \"import gzip,shutil,sys; f=gzip.GzipFile(filename='layer.tar', mode='wb', "
                     "compresslevel=" + s + ", fileobj=open(sys.argv[2],'wb'), mtime=0); "
                     "shutil.copyfileobj(open(sys.argv[1],'rb'), f, 65536); f.close()\" $IN $OUT",
                     "zlib"});
    cases.push_back({"PythonZlib" + s,
                     "python3 -c \"import zlib,sys; c=zlib.compressobj(" + s + ", zlib.DEFLATED, 31); "
                     "d=open(sys.argv[1],'rb').read(); open(sys.argv[2],'wb').write(c.compress(d)+c.flush())\" $IN $OUT",
                     "zlib"});
  }
  for (int l = 1; l <= 19; ++l) {
    cases.push_back({"Zstd" + std::to_string(l), "zstd -q -" + std::to_string(l) + " $IN -o $OUT", "zstd"});
  }
  cases.push_back({"Zstd3FromPipe", "zstd -q -3 < $IN > $OUT", "zstd"});
  return cases;
}

class OracleTest : public ::testing::TestWithParam<OracleCase> {};

TEST_P(OracleTest, ProbeFindsTheRecipeAndRebuildIsIdentical) { CheckOracle(GetParam(), CorpusTar()); }

INSTANTIATE_TEST_SUITE_P(Encoders, OracleTest, ::testing::ValuesIn(Cases()),
                         [](const ::testing::TestParamInfo<OracleCase>& p) { return p.param.name; });

TEST(OracleBigTest, HundredMegabyteLayerGoLevel6) {
  CheckOracle({"", std::string(GOFLATE_ORACLE) + " -gzip -level 6 < $IN > $OUT", "go"}, BigTar());
}

TEST(OracleBigTest, HundredMegabyteLayerPigz) { CheckOracle({"", "pigz -6 -n -c $IN > $OUT", "pigz"}, BigTar()); }

}  // namespace
}  // namespace outpost::codec
