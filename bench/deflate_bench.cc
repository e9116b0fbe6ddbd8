// Measures outpost's Go level-6 encoder against Go's own compress/gzip on the same tar-like
// input, side by side in one run, and prints a table.
//
//   deflate_bench [--mb 300] [--level 6] [--input FILE] [--repeat N] [--ours-only 1]
//
// --repeat runs both sides N times, alternating, and reports each side's best run (the machine
// is shared, so the best run is the one least disturbed). --ours-only skips Go (for perf).
//
// Both sides compress from memory to a byte counter and compute the gzip CRC-32; Go's time is
// measured inside the oracle process (tests/oracles/goflate -bench), so neither side pays for
// reading the input or for process start.
#include <zlib.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <string>

#include "common/file.h"
#include "common/io.h"
#include "deflate/go_flate.h"
#include "deflate/test_inputs.h"

namespace {

using outpost::NullWriter;

struct Result {
  double seconds;      // wall clock
  double cpu_seconds;  // CPU time of the process (Go: GC included)
  uint64_t bytes_out;
};

double CpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

Result RunOurs(const std::string& input, int level) {
  auto start = std::chrono::steady_clock::now();
  double cpu_start = CpuSeconds();
  NullWriter out;
  auto enc = outpost::deflate::NewGoEncoder(level, out);
  const auto* p = reinterpret_cast<const uint8_t*>(input.data());
  uLong crc = crc32(0, nullptr, 0);
  constexpr size_t kChunk = 32 << 10;  // what io.Copy hands gzip.Writer
  for (size_t pos = 0; pos < input.size(); pos += kChunk) {
    size_t n = std::min(kChunk, input.size() - pos);
    crc = crc32(crc, p + pos, static_cast<uInt>(n));
    enc->Write(p + pos, n);
  }
  enc->Finish();
  std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
  if (crc == 1) std::fputc(' ', stderr);  // keep the CRC computation
  // The gzip header (10 bytes) and trailer (8) around the deflate stream.
  return {took.count(), CpuSeconds() - cpu_start, out.count() + 18};
}

Result RunGo(const std::filesystem::path& input_path, int level) {
  std::string cmd = std::string(GOFLATE_ORACLE) + " -gzip -bench -level " +
                    std::to_string(level) + " < " + input_path.string();
  FILE* pipe = popen(cmd.c_str(), "r");
  Result r{0, 0, 0};
  if (pipe == nullptr ||
      std::fscanf(pipe, "%lf %lf %lu", &r.seconds, &r.cpu_seconds, &r.bytes_out) != 3) {
    std::cerr << "deflate_bench: running " << cmd << " failed\n";
    std::exit(1);
  }
  pclose(pipe);
  return r;
}

Result Best(const Result& a, const Result& b) {
  return {std::min(a.seconds, b.seconds), std::min(a.cpu_seconds, b.cpu_seconds), b.bytes_out};
}

void PrintRow(const char* name, const Result& r, size_t in_bytes) {
  double mb = static_cast<double>(in_bytes) / 1e6;
  std::printf("| %-28s | %8.2f | %8.1f | %8.2f | %8.1f | %12lu | %6.3f |\n", name, r.seconds,
              mb / r.seconds, r.cpu_seconds, mb / r.cpu_seconds,
              static_cast<unsigned long>(r.bytes_out),
              static_cast<double>(r.bytes_out) / static_cast<double>(in_bytes));
}

}  // namespace

int main(int argc, char** argv) {
  size_t mb = 300;
  int level = 6;
  std::string input_file;
  bool ours_only = false;
  int repeat = 1;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i];
    if (flag == "--mb") mb = std::stoul(argv[i + 1]);
    else if (flag == "--level") level = std::stoi(argv[i + 1]);
    else if (flag == "--input") input_file = argv[i + 1];
    else if (flag == "--repeat") repeat = std::max(1, std::stoi(argv[i + 1]));
    else if (flag == "--ours-only") ours_only = std::string(argv[i + 1]) == "1";
  }
  std::string input;
  if (!input_file.empty()) {
    std::ifstream f(input_file, std::ios::binary);
    input.assign(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
  } else {
    input = outpost::deflate::testing::LayerMix(mb << 20, 42);
  }
  outpost::TempDir dir;
  const auto input_path = dir.path() / "input";
  if (!ours_only) {
    std::ofstream f(input_path, std::ios::binary);
    f.write(input.data(), static_cast<std::streamsize>(input.size()));
  }
  const double kNever = 1e300;
  Result go{kNever, kNever, 0}, ours{kNever, kNever, 0};
  for (int run = 0; run < repeat; ++run) {
    if (!ours_only) go = Best(go, RunGo(input_path, level));
    ours = Best(ours, RunOurs(input, level));
  }
  std::printf("Go-flate level %d, %zu input bytes (%s), best of %d\n\n", level, input.size(),
              input_file.empty() ? "generated tar-like layer mix" : input_file.c_str(), repeat);
  std::printf("| %-28s | %8s | %8s | %8s | %8s | %12s | %6s |\n", "encoder", "wall s", "MB/s",
              "cpu s", "cpu MB/s", "gzip bytes", "ratio");
  std::printf("|------------------------------|----------|----------|----------|----------|"
              "--------------|--------|\n");
  if (!ours_only) PrintRow("Go 1.19 compress/gzip", go, input.size());
  PrintRow("outpost NewGoEncoder + crc32", ours, input.size());
  std::printf("\nspeedup (wall): %.2fx; speedup (cpu): %.2fx; same size: %s\n",
              go.seconds / ours.seconds, go.cpu_seconds / ours.cpu_seconds,
              go.bytes_out == ours.bytes_out ? "yes" : "NO");
  return ours_only || go.bytes_out == ours.bytes_out ? 0 : 1;
}
