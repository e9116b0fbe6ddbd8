// Writes the seed corpora under fuzz/corpus/ (run once from the repository root, and again when
// a format changes: build/fuzz/fuzz_make_seeds fuzz/corpus). One small valid input or a few per
// target, so each fuzzer starts past the magic numbers and checksums; every file stays under
// 4 KiB. Existing files are overwritten, others are left alone.
#include <zstd.h>

#include <cstdio>
#include <filesystem>
#include <string>

#include "common/error.h"
#include "common/file.h"
#include "common/io.h"
#include "delta/layer_delta.h"
#include "delta/signature.h"
#include "delta/test_util.h"
#include "fuzz/fixed_tars.h"
#include "tests/support/tar.h"

namespace outpost::fuzz {
namespace {

namespace fs = std::filesystem;

constexpr size_t kMaxSeedBytes = 4096;

void Put(const fs::path& root, const std::string& target, const std::string& name, const std::string& bytes) {
  if (bytes.size() >= kMaxSeedBytes) {
    throw InvalidArgument("seed ", target, "/", name, " is ", std::to_string(bytes.size()), " bytes; keep seeds under 4 KiB");
  }
  fs::create_directories(root / target);
  WriteFileAtomic(root / target / name, bytes);
  std::printf("%s/%s: %zu bytes\n", target.c_str(), name.c_str(), bytes.size());
}

std::string Zstd(const std::string& data) {
  std::string out(ZSTD_compressBound(data.size()), '\0');
  size_t n = ZSTD_compress(out.data(), out.size(), data.data(), data.size(), 3);
  if (ZSTD_isError(n)) throw InvalidArgument("zstd: ", ZSTD_getErrorName(n));
  out.resize(n);
  return out;
}

void CodecSeeds(const fs::path& root) {
  std::string plain;
  for (int i = 0; i < 50; ++i) plain += "outpost fuzz seed\n";
  std::string gz = testing::Gzip(plain);
  Put(root, "gzip_decoder", "a.gz", gz);
  Put(root, "gzip_decoder", "two-members.gz", gz + gz);
  Put(root, "zstd_decoder", "a.zst", Zstd(plain));
  Put(root, "zstd_decoder", "two-frames.zst", Zstd(plain) + Zstd("tail\n"));
  Put(root, "recipe_parser", "go", "v1 gzip hdr=1f8b08000000000000ff deflate=go:6\n");
  Put(root, "recipe_parser", "zstd", "v1 zstd level=3 checksum=1 size=none workers=1\n");
  Put(root, "recipe_parser", "pigz", "v1 gzip hdr=1f8b0808000000000003612e74617200 deflate=pigz:6:block=131072\n");
  Put(root, "tar_reader", "a.tar", testing::MakeTar(testing::Files{{"plain", plain}}, 0));
  Put(root, "tar_reader", "long-name.tar", testing::TarFile(std::string(150, 'd') + "/f", "x") + testing::TarEnd());
}

void DeltaSeeds(const fs::path& root) {
  delta::testing::StringRandomAccess base(FixedBaseTar());
  delta::EncodeOptions options;
  options.zstd_level = 3;
  {
    StringReader target(FixedTargetTar());
    StringWriter out;
    delta::EncodeLayerDelta(base, target, out, options);
    Put(root, "layer_delta", "layer.delta", out.str());
  }
  {
    StringReader target(FixedTargetTar());
    StringWriter out;
    delta::EncodeRawDelta(base, target, out, options);
    Put(root, "layer_delta", "raw.delta", out.str());
  }
  StringWriter signature;
  delta::BlockSignature::Build(base).Write(signature);
  Put(root, "layer_signature", "base.sig", signature.str());
  StringReader tar(FixedBaseTar());
  Put(root, "tar_index", "base.index", delta::TarIndex::Build(tar).Serialize());
}

}  // namespace
}  // namespace outpost::fuzz

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s fuzz/corpus\n", argv[0]);
    return 2;
  }
  try {
    outpost::fuzz::CodecSeeds(argv[1]);
    outpost::fuzz::DeltaSeeds(argv[1]);
  } catch (const outpost::Error& e) {
    std::fprintf(stderr, "fuzz_make_seeds: %s\n", e.what());
    return 1;
  }
  return 0;
}
