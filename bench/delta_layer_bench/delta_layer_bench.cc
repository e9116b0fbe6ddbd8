// delta_layer_bench: layer delta bytes and times, outpost versus the generic differs, on pairs
// of uncompressed layer tars. Prints a table (bytes of each delta, seconds to diff, seconds to
// apply) and a total row.
//
//   delta_layer_bench [--with-bsdiff] [--outpost-only] [--classes] [--applies N] [--level N] BASE.tar:TARGET.tar...
//
// --classes: outpost only, with its ELF_REF method off ("before") and on ("after") in the same
// run, on the whole target and on each class of its files alone: changed ELF files (present in
// the base with other content), other changed files, new files. Each class is a tar of the
// target's entries of that class, encoded against the whole base.
//
// --applies N: outpost's deltas are applied N times and the fastest counts (on a shared machine
// a single apply of a second or two varies by a third).
//
// The generic differs run as external programs (zstd --patch-from -19 --long, xdelta3 -9, and
// bsdiff only with --with-bsdiff: it needs minutes and GBs on a 288 MB layer). Scratch files go
// under $TMPDIR. Example, on the corpus's security-update scenario:
//
//   T=/tmp/outpost-corpus/build/tars
//   build/bench/delta_layer_bench/delta_layer_bench $T/base-v1.tar:$T/base-v2.tar $T/appa-v1.tar:$T/appa-v2.tar
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <string>
#include <string_view>
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

Result Outpost(const fs::path& base, const fs::path& target, const fs::path& scratch, int level, int applies,
               bool model_elf_refs = true) {
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
    options.model_elf_refs = model_elf_refs;
    stats = outpost::delta::EncodeLayerDelta(base_file, in, out, options);
    out.Commit();
  }
  r.diff_seconds = Seconds(start);
  r.bytes = stats.delta_bytes;
  for (int i = 0; i < applies; ++i) {
    start = std::chrono::steady_clock::now();
    outpost::FileReader delta_in(delta);
    outpost::NullWriter sink;
    outpost::delta::ApplyLayerDelta(base_file, delta_in, sink);
    double seconds = Seconds(start);
    r.apply_seconds = i == 0 ? seconds : std::min(r.apply_seconds, seconds);
  }
  static const char* kNames[] = {"literal", "copy", "add", "zstd-ref", "bsdiff", "rsync", "gzip", "elf-ref"};
  static_assert(std::size(kNames) == outpost::delta::kMethodCount);
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

// True when the content of `e` in `tar` starts like an ELF file.
bool IsElf(const outpost::RandomAccessFile& tar, const outpost::delta::TarIndexEntry& e) {
  if (e.size < 4) return false;
  char magic[4];
  tar.ReadAt(e.data_offset, reinterpret_cast<uint8_t*>(magic), 4);
  return std::string_view(magic, 4) == "\x7f" "ELF";
}

outpost::delta::TarIndex Index(const fs::path& tar) {
  outpost::FileReader in(tar);
  return outpost::delta::TarIndex::Build(in);
}

// Writes the target's changed ELF files, other changed files and new files (regular files only)
// as three tars under `scratch`; returns their paths in that order.
std::vector<fs::path> SplitByClass(const fs::path& base, const fs::path& target, const fs::path& scratch) {
  outpost::delta::TarIndex old_index = Index(base), new_index = Index(target);
  std::map<std::string, const outpost::delta::TarIndexEntry*> old;
  for (const auto& e : old_index.entries) old[e.name] = &e;
  outpost::RandomAccessFile old_tar(base), new_tar(target);
  std::string tars[3];
  for (const auto& e : new_index.entries) {
    if (e.type != '0' && e.type != '\0') continue;
    auto it = old.find(e.name);
    if (it != old.end() && it->second->content == e.content) continue;  // unchanged: a copy
    int cls = it == old.end() ? 2 : IsElf(new_tar, e) && IsElf(old_tar, *it->second) ? 0 : 1;
    uint64_t end = e.data_offset + (e.size + 511) / 512 * 512;
    std::string bytes(end - e.header_offset, '\0');
    new_tar.ReadAt(e.header_offset, reinterpret_cast<uint8_t*>(bytes.data()), bytes.size());
    tars[cls] += bytes;
  }
  std::vector<fs::path> paths;
  for (int i = 0; i < 3; ++i) {
    paths.push_back(scratch / ("class" + std::to_string(i) + ".tar"));
    outpost::AtomicFile out(paths.back());
    out.Write(tars[i] + std::string(1024, '\0'));
    out.Commit();
  }
  return paths;
}

// --classes: before/after rows per file class and for the whole target, summed over `pairs`.
void ClassTable(const std::vector<std::pair<fs::path, fs::path>>& pairs, const fs::path& scratch, int level,
                int applies) {
  const char* kClasses[] = {"changed ELF", "other changed", "new", "whole layer"};
  Result before[4], after[4];
  for (const auto& [base, target] : pairs) {
    std::vector<fs::path> tars = SplitByClass(base, target, scratch);
    tars.push_back(target);
    for (size_t c = 0; c < tars.size(); ++c) {
      for (bool model : {false, true}) {
        Result r = Outpost(base, tars[c], scratch, level, applies, model);
        Result& sum = model ? after[c] : before[c];
        sum.bytes += r.bytes;
        sum.diff_seconds += r.diff_seconds;
        sum.apply_seconds += r.apply_seconds;
      }
    }
  }
  std::printf("%-14s %12s %12s %7s %9s %9s %9s %9s\n", "file class", "before B", "after B", "ratio",
              "diff s", "diff s", "apply s", "apply s");
  for (int c = 0; c < 4; ++c) {
    std::printf("%-14s %12llu %12llu %7.3f %9.2f %9.2f %9.2f %9.2f\n", kClasses[c],
                static_cast<unsigned long long>(before[c].bytes), static_cast<unsigned long long>(after[c].bytes),
                static_cast<double>(after[c].bytes) / static_cast<double>(std::max<uint64_t>(before[c].bytes, 1)),
                before[c].diff_seconds, after[c].diff_seconds, before[c].apply_seconds, after[c].apply_seconds);
  }
}

}  // namespace

int main(int argc, char** argv) {
  bool with_bsdiff = false, generic = true, classes = false;
  int level = 19, applies = 1;
  std::vector<std::pair<fs::path, fs::path>> pairs;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--with-bsdiff") with_bsdiff = true;
    else if (arg == "--outpost-only") generic = false;
    else if (arg == "--classes") classes = true;
    else if (arg == "--level" && i + 1 < argc) level = std::atoi(argv[++i]);
    else if (arg == "--applies" && i + 1 < argc) applies = std::max(1, std::atoi(argv[++i]));
    else if (size_t colon = arg.find(':'); colon != std::string::npos) pairs.emplace_back(arg.substr(0, colon), arg.substr(colon + 1));
    else {
      std::fprintf(stderr, "usage: delta_layer_bench [--with-bsdiff] [--outpost-only] [--classes] [--applies N] [--level N] "
                           "BASE.tar:TARGET.tar...\n");
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
    if (classes) {
      ClassTable(pairs, scratch.path(), level, applies);
      return 0;
    }
    std::vector<std::pair<std::string, Result>> totals(tools.size() + 1);
    std::printf("%-34s %-30s %12s %9s %9s\n", "layer", "differ", "bytes", "diff s", "apply s");
    for (const auto& [base, target] : pairs) {
      uint64_t target_size = fs::file_size(target);
      std::vector<std::pair<std::string, Result>> rows;
      rows.emplace_back("outpost", Outpost(base, target, scratch.path(), level, applies));
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
