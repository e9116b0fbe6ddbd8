// delta_layer_bench: layer delta bytes and times, outpost versus the generic differs, on pairs
// of uncompressed layer tars. Prints a table (bytes of each delta, seconds to diff, seconds to
// apply) and a total row.
//
//   delta_layer_bench [--with-bsdiff] [--outpost-only] [--level N] BASE.tar:TARGET.tar...
//
// The generic differs run as external programs (zstd --patch-from -19 --long, xdelta3 -9, and
// bsdiff only with --with-bsdiff: it needs minutes and GBs on a 288 MB layer). Scratch files go
// under $TMPDIR. Example, on the corpus's security-update scenario:
//
//   T=/tmp/outpost-corpus/build/tars
//   build/bench/delta_layer_bench/delta_layer_bench $T/base-v1.tar:$T/base-v2.tar $T/appa-v1.tar:$T/appa-v2.tar
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "common/error.h"
#include "common/file.h"
#include "delta/layer_delta.h"

namespace {

namespace fs = std::filesystem;
using outpost::delta::Method;

struct Result {
  uint64_t bytes = 0;
  double diff_seconds = 0;
  double apply_seconds = 0;
};

double Seconds(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
}

// Runs a shell command, returning its wall time; exits the bench if it fails.
double Run(const std::string& command) {
  auto start = std::chrono::steady_clock::now();
  if (std::system(command.c_str()) != 0) {
    std::fprintf(stderr, "delta_layer_bench: command failed: %s\n", command.c_str());
    std::exit(1);
  }
  return Seconds(start);
}

long PeakRssMiB() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss / 1024;
}

Result Outpost(const fs::path& base, const fs::path& target, const fs::path& scratch, int level) {
  Result r;
  fs::path delta = scratch / "outpost.delta";
  outpost::RandomAccessFile base_file(base);
  auto start = std::chrono::steady_clock::now();
  outpost::delta::LayerDeltaStats stats;
  {
    outpost::FileReader in(target);
    outpost::AtomicFile out(delta);
    outpost::delta::EncodeOptions options;
    options.zstd_level = level;
    stats = outpost::delta::EncodeLayerDelta(base_file, in, out, options);
    out.Commit();
  }
  r.diff_seconds = Seconds(start);
  r.bytes = stats.delta_bytes;
  start = std::chrono::steady_clock::now();
  outpost::FileReader delta_in(delta);
  outpost::NullWriter sink;
  outpost::delta::ApplyLayerDelta(base_file, delta_in, sink);
  r.apply_seconds = Seconds(start);
  static const char* kNames[] = {"literal", "copy", "add", "zstd-ref", "bsdiff", "rsync", "gzip", "elf-ref"};
  std::fprintf(stderr, "  outpost %s: copied %llu, delta %llu, new %llu entries; peak RSS %ld MiB\n",
               target.filename().c_str(), static_cast<unsigned long long>(stats.copied_entries),
               static_cast<unsigned long long>(stats.delta_entries),
               static_cast<unsigned long long>(stats.new_entries), PeakRssMiB());
  for (int m = 0; m < outpost::delta::kMethodCount; ++m) {
    if (stats.method_target_bytes[m] == 0) continue;
    std::fprintf(stderr, "    %-9s target %12llu B  payload %10llu B\n", kNames[m],
                 static_cast<unsigned long long>(stats.method_target_bytes[m]),
                 static_cast<unsigned long long>(stats.method_delta_bytes[m]));
  }
  return r;
}

// Times an external differ given its diff and apply commands (%B base, %T target, %D delta,
// %O output), and checks the rebuilt target is identical.
Result External(const std::string& diff, const std::string& apply, const fs::path& base,
                const fs::path& target, const fs::path& scratch) {
  auto expand = [&](std::string s) {
    std::map<std::string, std::string> vars = {{"%B", base}, {"%T", target},
                                               {"%D", scratch / "ext.delta"}, {"%O", scratch / "ext.out"}};
    for (const auto& [key, value] : vars) {
      for (size_t at; (at = s.find(key)) != std::string::npos;) s.replace(at, 2, "'" + value + "'");
    }
    return s;
  };
  Result r;
  r.diff_seconds = Run(expand(diff));
  r.bytes = fs::file_size(scratch / "ext.delta");
  r.apply_seconds = Run(expand(apply));
  Run(expand("cmp -s %O %T"));
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  bool with_bsdiff = false, generic = true;
  int level = 19;
  std::vector<std::pair<fs::path, fs::path>> pairs;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--with-bsdiff") with_bsdiff = true;
    else if (arg == "--outpost-only") generic = false;
    else if (arg == "--level" && i + 1 < argc) level = std::atoi(argv[++i]);
    else if (size_t colon = arg.find(':'); colon != std::string::npos) pairs.emplace_back(arg.substr(0, colon), arg.substr(colon + 1));
    else {
      std::fprintf(stderr, "usage: delta_layer_bench [--with-bsdiff] [--outpost-only] [--level N] BASE.tar:TARGET.tar...\n");
      return 2;
    }
  }
  struct Tool {
    std::string name, diff, apply;
  };
  std::vector<Tool> tools = {
      {"zstd --patch-from -19 --long", "zstd -q -f -19 --long=31 --patch-from=%B %T -o %D",
       "zstd -q -f -d --long=31 --patch-from=%B %D -o %O"},
      {"xdelta3 -9", "xdelta3 -f -e -9 -s %B %T %D", "xdelta3 -f -d -s %B %D %O"},
  };
  if (!generic) tools.clear();
  if (with_bsdiff) tools.push_back({"bsdiff", "bsdiff %B %T %D", "bspatch %B %O %D"});
  try {
    outpost::TempDir scratch;
    std::vector<std::pair<std::string, Result>> totals(tools.size() + 1);
    std::printf("%-34s %-30s %12s %9s %9s\n", "layer", "differ", "bytes", "diff s", "apply s");
    for (const auto& [base, target] : pairs) {
      uint64_t target_size = fs::file_size(target);
      std::vector<std::pair<std::string, Result>> rows;
      rows.emplace_back("outpost", Outpost(base, target, scratch.path(), level));
      for (const Tool& t : tools) rows.emplace_back(t.name, External(t.diff, t.apply, base, target, scratch.path()));
      for (size_t i = 0; i < rows.size(); ++i) {
        const Result& r = rows[i].second;
        std::string layer = target.filename().string() + " (" + std::to_string(target_size >> 20) + " MiB)";
        std::printf("%-34s %-30s %12llu %9.1f %9.1f\n", layer.c_str(), rows[i].first.c_str(),
                    static_cast<unsigned long long>(r.bytes), r.diff_seconds, r.apply_seconds);
        totals[i].first = rows[i].first;
        totals[i].second.bytes += r.bytes;
        totals[i].second.diff_seconds += r.diff_seconds;
        totals[i].second.apply_seconds += r.apply_seconds;
      }
    }
    for (const auto& [name, r] : totals) {
      std::printf("%-34s %-30s %12llu %9.1f %9.1f\n", "TOTAL", name.c_str(),
                  static_cast<unsigned long long>(r.bytes), r.diff_seconds, r.apply_seconds);
    }
  } catch (const outpost::Error& e) {
    std::fprintf(stderr, "delta_layer_bench: %s\n", e.what());
    return 1;
  }
  return 0;
}
