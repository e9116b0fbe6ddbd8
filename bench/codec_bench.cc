// codec_bench: the codec's speed goals, measured side by side on one machine, printed as a table.
//
//   codec_bench [MEGABYTES|TAR] [WORKDIR] [rebuild]   (default 300 MB in /tmp/outpost-codec-bench)
//
// A TAR argument (an existing file, e.g. a real layer) is used as is instead of generated input;
// `rebuild` prints only the rebuild rows.
// Rows: rebuilding a tar with the Go level-6 recipe vs Go's own compress/gzip (the goflate
// oracle's -bench mode, which times compression of in-memory input), file to file and as apply
// does it (with the sha256 of the blob); probing a blob that no
// candidate reproduces vs one decompression of it; decompression vs `gzip -d`.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>

#include "codec/probe.h"
#include "codec/rebuild.h"
#include "common/error.h"
#include "common/file.h"
#include "compress/gzip_reader.h"

namespace outpost::codec {
namespace {

double Seconds(const std::function<void()>& f) {
  auto start = std::chrono::steady_clock::now();
  f();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

void Shell(const std::string& cmd) {
  if (std::system(cmd.c_str()) != 0) {
    std::fprintf(stderr, "codec_bench: failed: %s\n", cmd.c_str());
    std::exit(1);
  }
}

// Seconds Go's compress/gzip takes, as the oracle reports it ("<seconds> <bytes>").
double GoSeconds(const fs::path& tar, const fs::path& work) {
  fs::path out = work / "go.txt";
  Shell(Concat(GOFLATE_ORACLE, " -gzip -level 6 -bench < ", tar.string(), " > ", out.string()));
  return std::stod(ReadFileToString(out));
}

// Rebuilds `in` into `out_path`, hashing the blob on the way when `hash` is set (as apply does).
void RebuildFile(const std::string& recipe, const fs::path& in, const fs::path& out_path, bool hash = false) {
  FileReader in_file(in);
  AtomicFile out(out_path);
  HashingWriter hashing(&out);
  Rebuild(Recipe::Parse(recipe), in_file, hash ? static_cast<Writer&>(hashing) : out);
  if (hash) hashing.Finish();
  out.Commit();
}

void Row(const char* what, double ours, const char* other_name, double other) {
  std::printf("| %-44s | %8.2f s | %-26s | %8.2f s | %6.2fx |\n", what, ours, other_name, other, other / ours);
}

}  // namespace
}  // namespace outpost::codec

int main(int argc, char** argv) {
  using namespace outpost;
  using namespace outpost::codec;
  bool given = argc > 1 && fs::is_regular_file(argv[1]);
  int megabytes = given ? 0 : argc > 1 ? std::atoi(argv[1]) : 300;
  fs::path work = argc > 2 ? argv[2] : "/tmp/outpost-codec-bench";
  fs::create_directories(work);
  fs::path tar = given ? fs::path(argv[1]) : work / "layer.tar";
  if (given) megabytes = static_cast<int>(fs::file_size(tar) >> 20);
  if (!given && (!fs::exists(tar) || fs::file_size(tar) != uint64_t(megabytes) << 20)) {
    // Layer-like content: binaries, text, already-compressed files and zeros.
    Shell(Concat("(for i in $(seq 1 40); do cat /usr/bin/* 2>/dev/null | head -c 20000000; cat /usr/include/*.h; "
                 "cat /usr/share/doc/*/changelog.Debian.gz | head -c 5000000; head -c 3000000 /dev/zero; done) "
                 "| head -c ", std::to_string(megabytes << 20), " > ", tar.string()));
  }
  std::printf("codec_bench: %d MB input %s\n\n", megabytes, tar.c_str());
  std::printf("| %-44s | %10s | %-26s | %10s | %7s |\n", "operation (outpost)", "outpost", "reference", "reference",
              "speedup");
  std::printf("|%s|%s|%s|%s|%s|\n", std::string(46, '-').c_str(), std::string(12, '-').c_str(),
              std::string(28, '-').c_str(), std::string(12, '-').c_str(), std::string(9, '-').c_str());

  fs::path go_blob = work / "go6.gz";
  const std::string go6 = "v1 gzip hdr=1f8b08000000000000ff deflate=go:6";
  double go = GoSeconds(tar, work);
  Row("rebuild, recipe go:6 (file to file)", Seconds([&] { RebuildFile(go6, tar, go_blob); }),
      "Go compress/gzip L6 (mem)", go);
  Row("rebuild go:6 + sha256 of blob (as apply)", Seconds([&] { RebuildFile(go6, tar, go_blob, true); }),
      "Go compress/gzip L6 (mem)", go);
  if (argc > 3 && std::string(argv[3]) == "rebuild") return 0;

  double inflate = Seconds([&] {
    FileReader in(go_blob);
    compress::GzipReader r(in);
    NullWriter sink;
    Copy(r, sink);
  });
  double gnu = Seconds([&] { Shell(Concat("gzip -d -c < ", go_blob.string(), " > /dev/null")); });
  Row("decompress gzip (GzipReader)", inflate, "gzip -d", gnu);

  fs::path odd_blob = work / "nomatch.gz";  // zlib with a 1 KiB window: no known writer does that
  RebuildFile("v1 gzip hdr=1f8b08000000000000ff deflate=zlib:6:wbits=10", tar, odd_blob);
  double decompress = Seconds([&] {
    FileReader in(odd_blob);
    compress::GzipReader r(in);
    NullWriter sink;
    Copy(r, sink);
  });
  ProbeResult result;
  double probe = Seconds([&] { result = Probe([&] { return std::make_unique<FileReader>(odd_blob); }); });
  Row("probe, no candidate matches", probe, "one decompression", decompress);
  std::printf("\nprobe of the no-match blob: %s\nprobe overhead beyond one decompression: %.2f s (goal < 2 s)\n",
              result.reason.c_str(), probe - decompress);
  return 0;
}
