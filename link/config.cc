// Reading the daemons' YAML configs (config.h).
#include "link/config.h"

#include <charconv>

#include "common/file.h"
#include "link/units.h"

namespace outpost::link {

namespace {

// "FILE:LINE: " for a node, or "FILE: " when the node has no position.
std::string Where(const std::string& file, const YAML::Mark& mark) {
  if (mark.is_null()) return file + ": ";
  return file + ":" + std::to_string(mark.line + 1) + ": ";
}

std::string JoinKeys(std::initializer_list<std::string_view> keys) {
  std::string out;
  for (std::string_view key : keys) {
    if (!out.empty()) out += ", ";
    out += key;
  }
  return out;
}

}  // namespace

ConfigMap::ConfigMap(YAML::Node node, std::string file, std::string path, std::filesystem::path dir)
    : node_(std::move(node)), file_(std::move(file)), path_(std::move(path)), dir_(std::move(dir)) {}

ConfigMap ConfigMap::Load(const std::filesystem::path& path) {
  std::string text = ReadFileToString(path, 1 << 20);
  return Parse(text, path.string());
}

ConfigMap ConfigMap::Parse(std::string_view yaml, std::string file) {
  YAML::Node root;
  try {
    root = YAML::Load(std::string(yaml));
  } catch (const YAML::Exception& e) {
    throw InvalidArgument(Where(file, e.mark), "YAML syntax: ", e.msg);
  }
  if (!root.IsMap()) throw InvalidArgument(file, ": the top level must be a mapping of keys to values");
  std::filesystem::path dir = std::filesystem::path(file).parent_path();
  dir = dir.empty() ? std::filesystem::current_path() : std::filesystem::absolute(dir);
  return ConfigMap(root, std::move(file), "", std::move(dir));
}

YAML::Node ConfigMap::Get(std::string_view key) const {
  const YAML::Node& node = node_;
  return node[std::string(key)];
}

Error ConfigMap::ErrorAt(std::string_view key, std::string_view message) const {
  YAML::Node at = key.empty() ? node_ : Get(key);
  YAML::Mark mark = at.IsDefined() ? at.Mark() : node_.Mark();
  std::string name = path_;
  if (!key.empty()) name += (name.empty() ? "" : ".") + std::string(key);
  if (name.empty()) return InvalidArgument(Where(file_, mark), message);
  return InvalidArgument(Where(file_, mark), "`", name, "`: ", message);
}

void ConfigMap::AllowOnly(std::initializer_list<std::string_view> allowed) const {
  for (const auto& entry : node_) {
    std::string key = entry.first.Scalar();
    bool known = false;
    for (std::string_view name : allowed) known = known || name == key;
    if (known) continue;
    std::string in = path_.empty() ? "" : " in `" + path_ + "`";
    throw InvalidArgument(Where(file_, entry.first.Mark()), "unknown key `", key, "`", in,
                          " (expected one of: ", JoinKeys(allowed), ")");
  }
}

bool ConfigMap::Has(std::string_view key) const {
  YAML::Node node = Get(key);
  return node.IsDefined() && !node.IsNull();
}

std::optional<std::string> ConfigMap::OptionalString(std::string_view key) const {
  if (!Has(key)) return std::nullopt;
  YAML::Node node = Get(key);
  if (!node.IsScalar()) throw ErrorAt(key, "expected a single value, not a list or mapping");
  return node.Scalar();
}

std::string ConfigMap::String(std::string_view key) const {
  std::optional<std::string> value = OptionalString(key);
  if (!value) throw ErrorAt(key, "is required");
  return *value;
}

std::optional<int64_t> ConfigMap::OptionalInt(std::string_view key, int64_t min, int64_t max) const {
  std::optional<std::string> text = OptionalString(key);
  if (!text) return std::nullopt;
  int64_t value = 0;
  auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), value);
  if (ec != std::errc() || end != text->data() + text->size() || value < min || value > max) {
    throw ErrorAt(key, Concat("expected a whole number from ", std::to_string(min), " to ", std::to_string(max),
                              ", not `", *text, "`"));
  }
  return value;
}

int64_t ConfigMap::Int(std::string_view key, int64_t min, int64_t max) const {
  std::optional<int64_t> value = OptionalInt(key, min, max);
  if (!value) throw ErrorAt(key, "is required");
  return *value;
}

namespace {

// Parses the string at `key` with `parse` (a units.h parser), its errors placed at the key.
template <typename Parse>
auto ParseAt(const ConfigMap& map, std::string_view key, Parse parse) -> std::optional<decltype(parse(""))> {
  std::optional<std::string> text = map.OptionalString(key);
  if (!text) return std::nullopt;
  try {
    return parse(*text);
  } catch (const Error& e) {
    throw map.ErrorAt(key, e.what());
  }
}

}  // namespace

std::optional<uint64_t> ConfigMap::OptionalRate(std::string_view key) const { return ParseAt(*this, key, ParseRate); }

std::optional<uint64_t> ConfigMap::OptionalBytes(std::string_view key) const { return ParseAt(*this, key, ParseBytes); }

std::optional<std::chrono::milliseconds> ConfigMap::OptionalDuration(std::string_view key) const {
  return ParseAt(*this, key, ParseDuration);
}

std::optional<std::filesystem::path> ConfigMap::OptionalPath(std::string_view key) const {
  std::optional<std::string> text = OptionalString(key);
  if (!text) return std::nullopt;
  if (text->empty()) throw ErrorAt(key, "expected a path, not an empty string");
  std::filesystem::path path(*text);
  return path.is_absolute() ? path : dir_ / path;
}

std::filesystem::path ConfigMap::Path(std::string_view key) const {
  std::optional<std::filesystem::path> path = OptionalPath(key);
  if (!path) throw ErrorAt(key, "is required");
  return *path;
}

ConfigMap ConfigMap::Map(std::string_view key) const {
  YAML::Node node = Get(key);
  if (!node.IsDefined() || node.IsNull()) throw ErrorAt(key, "is required");
  if (!node.IsMap()) throw ErrorAt(key, "expected a mapping of keys to values");
  std::string path = path_.empty() ? std::string(key) : path_ + "." + std::string(key);
  return ConfigMap(node, file_, std::move(path), dir_);
}

std::vector<std::string> ConfigMap::StringList(std::string_view key) const {
  std::vector<std::string> out;
  if (!Has(key)) return out;
  YAML::Node list = Get(key);
  if (!list.IsSequence()) throw ErrorAt(key, "expected a list of strings (lines starting with `- `, or [a, b])");
  for (const YAML::Node& item : list) {
    if (!item.IsScalar()) throw ErrorAt(key, "expected a list of strings; an item is not a string");
    out.push_back(item.Scalar());
  }
  return out;
}

std::vector<ConfigMap> ConfigMap::MapList(std::string_view key) const {
  std::vector<ConfigMap> out;
  if (!Has(key)) return out;
  YAML::Node list = Get(key);
  if (!list.IsSequence()) throw ErrorAt(key, "expected a list (lines starting with `- `)");
  std::string prefix = path_.empty() ? std::string(key) : path_ + "." + std::string(key);
  for (size_t i = 0; i < list.size(); ++i) {
    std::string path = prefix + "[" + std::to_string(i) + "]";
    if (!list[i].IsMap()) {
      throw InvalidArgument(Where(file_, list[i].Mark()), "`", path, "`: expected a mapping of keys to values");
    }
    out.push_back(ConfigMap(list[i], file_, std::move(path), dir_));
  }
  return out;
}

}  // namespace outpost::link
