#include "tests/registry/skopeo.h"

#include <nlohmann/json.hpp>

#include <set>

#include "common/digest.h"
#include "tests/support/command.h"

namespace outpost::testing {

std::string SkopeoManifest(const std::string& ref) {
  RunResult r = RunCommand("skopeo inspect --raw --tls-verify=false " + ref);
  return r.exit_code == 0 ? r.out : "";
}

std::string SkopeoDigest(const std::string& ref) {
  std::string raw = SkopeoManifest(ref);
  return raw.empty() ? "" : Digest::Of(raw).str();
}

uint64_t ChangedLayerBytes(const std::vector<std::string>& held, const std::string& to) {
  std::set<std::string> have;
  for (const std::string& ref : held) {
    const nlohmann::json manifest = nlohmann::json::parse(SkopeoManifest(ref));
    for (const auto& layer : manifest["layers"]) have.insert(layer["digest"]);
  }
  uint64_t bytes = 0;
  const nlohmann::json manifest = nlohmann::json::parse(SkopeoManifest(to));
  for (const auto& layer : manifest["layers"]) {
    if (!have.contains(layer["digest"])) bytes += layer["size"].get<uint64_t>();
  }
  return bytes;
}

uint64_t RegistryPullBytes(const std::string& from, const std::string& to) {
  std::string raw = SkopeoManifest(to);
  std::vector<std::string> held;
  if (!from.empty()) held.push_back(from);
  return raw.size() + nlohmann::json::parse(raw)["config"]["size"].get<uint64_t>() + ChangedLayerBytes(held, to);
}

}  // namespace outpost::testing
