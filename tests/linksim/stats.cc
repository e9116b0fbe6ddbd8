#include "tests/linksim/stats.h"

#include <unistd.h>

#include <cstdio>
#include <nlohmann/json.hpp>

namespace outpost::linksim {

std::string ToJson(const Stats& s) {
  nlohmann::ordered_json j;
  j["bytes_down"] = s.bytes_down;
  j["bytes_up"] = s.bytes_up;
  j["connections"] = s.connections;
  j["cuts"] = s.cuts;
  j["blackholed_ms"] = s.blackholed_ms;
  j["connects"] = s.connects;
  j["corrupted"] = s.corrupted;
  return j.dump();
}

bool WriteAtomically(const std::string& path, const std::string& data) {
  std::string temp = path + ".tmp." + std::to_string(::getpid());
  std::FILE* f = std::fopen(temp.c_str(), "wb");
  if (f == nullptr) return false;
  bool ok = std::fwrite(data.data(), 1, data.size(), f) == data.size();
  ok = std::fclose(f) == 0 && ok;
  ok = ok && std::rename(temp.c_str(), path.c_str()) == 0;
  if (!ok) std::remove(temp.c_str());
  return ok;
}

}  // namespace outpost::linksim
