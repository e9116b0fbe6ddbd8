#include "protocol/bundle_printer.h"

#include <cstdio>

namespace outpost::protocol {

std::string HumanBytes(uint64_t bytes) {
  static constexpr const char* kUnits[] = {"B", "kB", "MB", "GB", "TB"};
  double v = static_cast<double>(bytes);
  size_t unit = 0;
  while (v >= 1000 && unit + 1 < std::size(kUnits)) {
    v /= 1000;
    ++unit;
  }
  char buf[32];
  std::snprintf(buf, sizeof(buf), unit == 0 ? "%.0f %s" : "%.2f %s", v, kUnits[unit]);
  return buf;
}

std::string DescribeBundle(const BundleReader& bundle) {
  const Header& h = bundle.header();
  std::string out;
  out += "bundle:     format v" + std::to_string(bundle.version()) + ", " + HumanBytes(bundle.file_size()) +
         ", " + std::to_string(bundle.chunks().size()) + " chunks, made by " + h.created_by + "\n";
  out += "signed by:  " + (bundle.signer() ? KeyFingerprint(*bundle.signer()) : std::string("(unsigned)")) + "\n";
  out += "target:     " + h.target_reference + "\n";
  out += "manifest:   " + h.manifest.digest.str() + " (" + h.manifest.media_type + ")\n";
  out += "config:     " + h.config.digest.str() + "\n";
  out += "bases:      " + std::to_string(h.bases.size()) + "\n";
  for (size_t i = 0; i < h.bases.size(); ++i) {
    out += "  [" + std::to_string(i) + "] " + h.bases[i].digest.str() + " diffID " + h.bases[i].diff_id.short_hex() + "\n";
  }
  out += "layers:     " + std::to_string(h.layers.size()) + "\n";
  for (const LayerEntry& l : h.layers) {
    out += "  " + l.digest.str() + " " + HumanBytes(l.size) + " <- " + std::string(MethodName(l.method));
    if (l.base) out += " base [" + std::to_string(*l.base) + "]";
    out += ", " + HumanBytes(l.payload.length);
    if (!l.recipe.empty()) out += ", recipe " + l.recipe;
    out += "\n";
  }
  out += "shipped:    " + HumanBytes(bundle.file_size()) + " vs " + HumanBytes(h.registry_bytes) +
         " a registry would ship\n";
  return out;
}

}  // namespace outpost::protocol
