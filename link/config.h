// Reading the daemons' YAML configs: every error names the file, the line and the key.
#pragma once

#include <yaml-cpp/yaml.h>

#include "common/error.h"

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace outpost::link {

// One YAML mapping of a config file (the top level, or a nested one such as `tls:`), with the
// file name and key path for messages. Copyable, cheap.
class ConfigMap {
 public:
  // Loads `path`; its top level must be a mapping. Throws NotFound, InvalidArgument
  // ("hub.yaml:12: ..." for YAML syntax).
  static ConfigMap Load(const std::filesystem::path& path);
  // From text (tests); `file` names it in messages.
  static ConfigMap Parse(std::string_view yaml, std::string file);

  // Throws InvalidArgument "FILE:LINE: unknown key `x` in `tls` (expected one of: a, b)" for
  // any key not in `allowed`.
  void AllowOnly(std::initializer_list<std::string_view> allowed) const;

  bool Has(std::string_view key) const;
  // Scalars. Required: missing is an error naming the key; Optional: nullopt when absent.
  std::string String(std::string_view key) const;
  std::optional<std::string> OptionalString(std::string_view key) const;
  int64_t Int(std::string_view key, int64_t min, int64_t max) const;
  std::optional<int64_t> OptionalInt(std::string_view key, int64_t min, int64_t max) const;
  std::optional<uint64_t> OptionalRate(std::string_view key) const;          // units.h ParseRate
  std::optional<uint64_t> OptionalBytes(std::string_view key) const;         // ParseBytes
  std::optional<std::chrono::milliseconds> OptionalDuration(std::string_view key) const;
  // A path; relative ones are taken from the config file's folder.
  std::filesystem::path Path(std::string_view key) const;
  std::optional<std::filesystem::path> OptionalPath(std::string_view key) const;
  // Nested mappings, sequences of mappings and sequences of strings.
  ConfigMap Map(std::string_view key) const;
  std::vector<ConfigMap> MapList(std::string_view key) const;  // absent: empty
  std::vector<std::string> StringList(std::string_view key) const;  // absent: empty; scalars only

  // An InvalidArgument error "FILE:LINE: `key`: message" for the value at `key` (or this map).
  Error ErrorAt(std::string_view key, std::string_view message) const;
  const std::string& file() const { return file_; }

 private:
  ConfigMap(YAML::Node node, std::string file, std::string path, std::filesystem::path dir);
  YAML::Node Get(std::string_view key) const;
  YAML::Node node_;
  std::string file_;          // "hub.yaml"
  std::string path_;          // "sites[2].windows[0]" ("" at the top)
  std::filesystem::path dir_; // the config's folder, for relative paths
};

}  // namespace outpost::link
