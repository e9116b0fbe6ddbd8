#include "codec/recipe.h"

#include <charconv>
#include <map>

#include "codec/deflate_family.h"
#include "common/digest.h"
#include "common/error.h"
#include "compress/gzip_format.h"

namespace outpost::codec {
namespace {

constexpr std::string_view kVersion = "v1";

std::vector<std::string_view> Split(std::string_view s, char sep) {
  std::vector<std::string_view> parts;
  for (;;) {
    size_t p = s.find(sep);
    parts.push_back(s.substr(0, p));
    if (p == std::string_view::npos) return parts;
    s.remove_prefix(p + 1);
  }
}

int64_t ParseInt(std::string_view text, int64_t lo, int64_t hi, std::string_view what) {
  int64_t v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || v < lo || v > hi) {
    throw InvalidArgument("recipe field ", std::string(what), "='", std::string(text), "' is not an integer in ",
                          std::to_string(lo), "..", std::to_string(hi));
  }
  return v;
}

uint8_t ParseHexByte(std::string_view two) {
  auto nibble = [&](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    throw InvalidArgument("recipe hdr= has a character that is not lowercase hex: '", std::string(1, c), "'");
  };
  return static_cast<uint8_t>(nibble(two[0]) << 4 | nibble(two[1]));
}

std::string HexDecode(std::string_view hex) {
  if (hex.size() % 2 != 0) throw InvalidArgument("recipe hdr= has an odd number of hex digits");
  std::string out;
  for (size_t i = 0; i < hex.size(); i += 2) {
    out.push_back(static_cast<char>(ParseHexByte(hex.substr(i, 2))));
  }
  return out;
}

DeflateSpec ParseDeflateSpec(std::string_view text) {
  std::vector<std::string_view> parts = Split(text, ':');
  if (parts.size() < 2) throw InvalidArgument("recipe deflate='", std::string(text), "' needs family:level");
  DeflateSpec spec{std::string(parts[0]), static_cast<int>(ParseInt(parts[1], -16, 16, "deflate level")), {}};
  for (size_t i = 2; i < parts.size(); ++i) {
    size_t eq = parts[i].find('=');
    if (eq == std::string_view::npos) throw InvalidArgument("recipe deflate option '", std::string(parts[i]), "' is not key=value");
    spec.options.emplace_back(std::string(parts[i].substr(0, eq)), std::string(parts[i].substr(eq + 1)));
  }
  return Normalize(spec);
}

// key=value fields after "v1 <kind>"; each key at most once.
std::map<std::string_view, std::string_view> ParseFields(const std::vector<std::string_view>& tokens) {
  std::map<std::string_view, std::string_view> fields;
  for (size_t i = 2; i < tokens.size(); ++i) {
    size_t eq = tokens[i].find('=');
    if (eq == std::string_view::npos || !fields.emplace(tokens[i].substr(0, eq), tokens[i].substr(eq + 1)).second) {
      throw InvalidArgument("recipe field '", std::string(tokens[i]), "' is not a unique key=value");
    }
  }
  return fields;
}

std::string_view Take(std::map<std::string_view, std::string_view>& fields, std::string_view key) {
  auto it = fields.find(key);
  if (it == fields.end()) throw InvalidArgument("recipe lacks field ", std::string(key), "=");
  std::string_view v = it->second;
  fields.erase(it);
  return v;
}

}  // namespace

std::string DeflateSpec::str() const {
  std::string s = family + ":" + std::to_string(level);
  for (const auto& [k, v] : options) s += ":" + k + "=" + v;
  return s;
}

const std::string& DeflateSpec::Option(std::string_view key) const {
  for (const auto& [k, v] : options) {
    if (k == key) return v;
  }
  throw InvalidArgument("deflate spec '", str(), "' lacks option ", std::string(key));
}

int64_t DeflateSpec::IntOption(std::string_view key, int64_t lo, int64_t hi) const {
  return ParseInt(Option(key), lo, hi, Concat("deflate option ", std::string(key)));
}

std::string Recipe::str() const {
  switch (compression) {
    case image::Compression::kNone: return "v1 none";
    case image::Compression::kGzip:
      return Concat("v1 gzip hdr=", HexEncode(gzip_header.data(), gzip_header.size()), " deflate=", deflate.str());
    case image::Compression::kZstd:
      return Concat("v1 zstd level=", std::to_string(zstd.level), " checksum=", zstd.checksum ? "1" : "0",
                    " size=", zstd.content_size ? std::to_string(*zstd.content_size) : "none",
                    " workers=", std::to_string(zstd.workers));
  }
  return "";
}

Recipe Recipe::Parse(std::string_view line) {
  std::vector<std::string_view> tokens = Split(line, ' ');
  if (tokens[0] != kVersion) throw InvalidArgument("recipe '", std::string(line.substr(0, 40)), "' is not version v1");
  if (tokens.size() < 2) throw InvalidArgument("recipe lacks a compression (none, gzip or zstd)");
  auto fields = ParseFields(tokens);
  Recipe r;
  if (tokens[1] == "none") {
    r.compression = image::Compression::kNone;
  } else if (tokens[1] == "gzip") {
    r.compression = image::Compression::kGzip;
    r.gzip_header = compress::GzipHeader::FromRaw(HexDecode(Take(fields, "hdr"))).raw;
    r.deflate = ParseDeflateSpec(Take(fields, "deflate"));
  } else if (tokens[1] == "zstd") {
    r.compression = image::Compression::kZstd;
    r.zstd.level = static_cast<int>(ParseInt(Take(fields, "level"), -131072, 22, "level"));
    r.zstd.checksum = ParseInt(Take(fields, "checksum"), 0, 1, "checksum") == 1;
    std::string_view size = Take(fields, "size");
    if (size != "none") r.zstd.content_size = static_cast<uint64_t>(ParseInt(size, 0, INT64_MAX, "size"));
    r.zstd.workers = static_cast<int>(ParseInt(Take(fields, "workers"), 0, 256, "workers"));
  } else {
    throw InvalidArgument("recipe compression '", std::string(tokens[1]), "' is not none, gzip or zstd");
  }
  if (!fields.empty()) throw InvalidArgument("recipe has unknown field '", std::string(fields.begin()->first), "='");
  return r;
}

}  // namespace outpost::codec
