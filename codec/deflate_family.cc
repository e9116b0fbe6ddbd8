#include "codec/deflate_family.h"

#include <algorithm>

#include "codec/pgzip_layout.h"
#include "codec/zlib_encoder.h"
#include "common/error.h"
#include "deflate/gnu_gzip.h"
#include "deflate/go_flate.h"
#include "deflate/klauspost_flate.h"

namespace outpost::codec {
namespace {

// The levels a writer that sets XFL the usual way (2 for its best level 9, 4 for its fastest
// level 1, 0 otherwise) may have used, most common first. `others` are the XFL=0 levels.
std::vector<int> LevelsForXfl(uint8_t xfl, std::initializer_list<int> others) {
  if (xfl == compress::kXflFastest) return {1};
  if (xfl == compress::kXflBest) return {9};
  return others;
}

DeflateSpec Spec(std::string_view family, int level,
                 std::vector<std::pair<std::string, std::string>> options = {}) {
  return DeflateSpec{std::string(family), level, std::move(options)};
}

// Go compress/gzip (Go 1.19-1.26): OS 255, XFL from the level; Docker, BuildKit, containerd use
// level 6 and go-containerregistry level 1.
std::unique_ptr<deflate::Encoder> MakeGo(const DeflateSpec& s, Writer& out) { return deflate::NewGoEncoder(s.level, out); }

std::vector<DeflateSpec> GoCandidates(const compress::GzipHeader& h) {
  std::vector<DeflateSpec> out;
  if (h.os != compress::kOsUnknown) return out;
  for (int level : LevelsForXfl(h.xfl, {6, 2, 3, 4, 5, 7, 8, 0, -2})) out.push_back(Spec("go", level));
  return out;
}

// klauspost pgzip 1.2.x over klauspost flate 1.15.12 (skopeo, podman, buildah, apko): OS 255,
// MTIME 0x886e0900 unless the caller set one, level 5 by default. The same bytes come from
// klauspost/compress 1.15.x-1.17.x (see the fixtures' INDEX.md); `flate=` names that encoder.
std::unique_ptr<deflate::Encoder> MakePgzip(const DeflateSpec& s, Writer& out) {
  if (s.Option("flate") != "kp1.15") throw InvalidArgument("deflate spec '", s.str(), "': unknown flate version");
  int level = s.level;
  auto block = static_cast<size_t>(s.IntOption("block", kPgzipTailBytes + 1, 1 << 30));
  return std::make_unique<PgzipEncoder>(
      [level](Writer& w, std::string_view dict) { return deflate::NewKlauspostEncoder(level, w, dict); }, block, out);
}

std::vector<DeflateSpec> PgzipCandidates(const compress::GzipHeader& h) {
  std::vector<DeflateSpec> out;
  if (h.os != compress::kOsUnknown) return out;
  for (int level : LevelsForXfl(h.xfl, {5, 6, 2, 3, 4, 7, 8, 0, -2})) {
    out.push_back(Spec("pgzip", level, {{"block", "1048576"}, {"flate", "kp1.15"}}));
  }
  return out;
}

// zlib: Python's gzip module (OS 255, XFL by level), Java's GZIPOutputStream (OS 0, XFL 0 at
// every level), zlib's gzip writer and BSD/macOS gzip (OS 3).
std::unique_ptr<deflate::Encoder> MakeZlib(const DeflateSpec& s, Writer& out) {
  ZlibParams p{s.level, static_cast<int>(s.IntOption("mem", 1, 9)), static_cast<int>(s.IntOption("strategy", 0, 4)),
               static_cast<int>(s.IntOption("wbits", 9, 15))};
  return std::make_unique<ZlibEncoder>(p, out);
}

std::vector<DeflateSpec> ZlibCandidates(const compress::GzipHeader& h) {
  std::vector<int> levels = h.os == compress::kOsFat ? std::vector<int>{6, 1, 2, 3, 4, 5, 7, 8, 9}
                                           : LevelsForXfl(h.xfl, {6, 2, 3, 4, 5, 7, 8});
  std::vector<DeflateSpec> out;
  for (int mem : {8, 9}) {
    if (mem == 9 && h.os == compress::kOsFat) continue;  // Java always uses zlib's default memLevel
    for (int level : levels) {
      out.push_back(Spec("zlib", level, {{"mem", std::to_string(mem)}, {"strategy", "0"}, {"wbits", "15"}}));
    }
  }
  return out;
}

std::unique_ptr<deflate::Encoder> MakePigz(const DeflateSpec& s, Writer& out) {
  return std::make_unique<PigzEncoder>(s.level, static_cast<size_t>(s.IntOption("block", 32 << 10, 1 << 30)), out);
}

std::vector<DeflateSpec> PigzCandidates(const compress::GzipHeader& h) {
  std::vector<DeflateSpec> out;
  if (h.os != compress::kOsUnix) return out;
  for (int level : LevelsForXfl(h.xfl, {6, 2, 3, 4, 5, 7, 8})) {
    out.push_back(Spec("pigz", level, {{"block", "131072"}}));
  }
  return out;
}

// GNU gzip 1.12's own deflate (`gzip -n -1..-9`; Debian's changelogs and man pages use -9):
// OS 3, XFL 2 at level 9, 4 at level 1.
std::unique_ptr<deflate::Encoder> MakeGnu(const DeflateSpec& s, Writer& out) { return deflate::NewGnuGzipEncoder(s.level, out); }

std::vector<DeflateSpec> GnuCandidates(const compress::GzipHeader& h) {
  std::vector<DeflateSpec> out;
  if (h.os != compress::kOsUnix) return out;
  for (int level : LevelsForXfl(h.xfl, {6, 2, 3, 4, 5, 7, 8})) out.push_back(Spec("gnu", level));
  return out;
}

const DeflateFamily& FindFamily(std::string_view name) {
  for (const DeflateFamily& f : DeflateFamilies()) {
    if (f.name == name) return f;
  }
  throw InvalidArgument("unknown deflate encoder family '", std::string(name), "'");
}

}  // namespace

const std::vector<DeflateFamily>& DeflateFamilies() {
  static const std::vector<DeflateFamily> kFamilies = {
      {"go", -2, 9, {}, MakeGo, GoCandidates},
      {"pgzip", -2, 9, {{"block", "1048576"}, {"flate", "kp1.15"}}, MakePgzip, PgzipCandidates},
      {"zlib", 0, 9, {{"mem", "8"}, {"strategy", "0"}, {"wbits", "15"}}, MakeZlib, ZlibCandidates},
      {"pigz", 1, 9, {{"block", "131072"}}, MakePigz, PigzCandidates},
      {"gnu", 1, 9, {}, MakeGnu, GnuCandidates},
  };
  return kFamilies;
}

DeflateSpec Normalize(const DeflateSpec& spec) {
  const DeflateFamily& f = FindFamily(spec.family);
  if (spec.level < f.min_level || spec.level > f.max_level) {
    throw InvalidArgument("deflate spec '", spec.str(), "': level out of range ", std::to_string(f.min_level), "..",
                          std::to_string(f.max_level));
  }
  for (const auto& option : spec.options) {
    bool known = std::any_of(f.options.begin(), f.options.end(), [&](const DeflateOption& o) { return o.key == option.first; });
    if (!known) throw InvalidArgument("deflate spec '", spec.str(), "': unknown option '", option.first, "'");
  }
  DeflateSpec out{spec.family, spec.level, {}};
  for (const DeflateOption& o : f.options) {
    auto it = std::find_if(spec.options.begin(), spec.options.end(), [&](const auto& kv) { return kv.first == o.key; });
    out.options.emplace_back(std::string(o.key), it != spec.options.end() ? it->second : std::string(o.default_value));
  }
  return out;
}

std::unique_ptr<deflate::Encoder> MakeDeflateEncoder(const DeflateSpec& spec, Writer& out) {
  return FindFamily(spec.family).make(spec, out);
}

}  // namespace outpost::codec
