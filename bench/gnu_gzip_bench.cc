// Side-by-side speed of our GNU gzip encoder and the real `gzip` on the same ~30 MB input.
// Usage: gnu_gzip_bench [INPUT]   (default: 30 MiB of deterministic mixed text/zeros/random)
// Prints one row per level: MB/s of each, their ratio, and whether the outputs are identical.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "common/file.h"
#include "deflate/gnu_gzip.h"
#include "deflate/test_inputs.h"

namespace {

using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;

double Seconds(Clock::time_point since) {
  return std::chrono::duration<double>(Clock::now() - since).count();
}

}  // namespace

int main(int argc, char** argv) {
  using namespace outpost;
  TempDir dir;
  fs::path input = argc > 1 ? fs::path(argv[1]) : dir.path() / "input";
  if (argc <= 1) {
    std::string data = deflate::testing::MixedBytes(30 << 20, 30);
    std::ofstream(input, std::ios::binary).write(data.data(), std::streamsize(data.size()));
  }
  double mb = double(fs::file_size(input)) / 1e6;
  std::printf("input %s, %.1f MB\n", input.c_str(), mb);
  std::printf("%-6s %12s %12s %8s %6s\n", "level", "ours MB/s", "gzip MB/s", "ratio", "same");
  for (int level : {1, 6, 9}) {
    fs::path theirs = dir.path() / "theirs.gz";
    std::string cmd = "gzip -c -n -" + std::to_string(level) + " '" + input.string() + "' > '" +
                      theirs.string() + "'";
    auto t0 = Clock::now();
    if (std::system(cmd.c_str()) != 0) return 1;
    double gzip_s = Seconds(t0);

    FileReader in(input);
    StringWriter ours;
    deflate::GnuGzipHeader header;
    header.level = level;
    t0 = Clock::now();
    deflate::GnuGzipCompress(in, header, ours);
    double ours_s = Seconds(t0);

    FileReader back(theirs);
    bool same = ReadAll(back, size_t(1) << 31) == ours.str();
    std::printf("-%-5d %12.1f %12.1f %7.2fx %6s\n", level, mb / ours_s, mb / gzip_s,
                gzip_s / ours_s, same ? "yes" : "NO");
  }
  return 0;
}
