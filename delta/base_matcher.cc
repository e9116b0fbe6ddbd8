#include "delta/base_matcher.h"

#include <cctype>

namespace outpost::delta {
namespace {

std::string_view Basename(std::string_view name) {
  size_t slash = name.find_last_of('/');
  return slash == std::string_view::npos ? name : name.substr(slash + 1);
}

uint64_t Distance(uint64_t a, uint64_t b) { return a > b ? a - b : b - a; }

}  // namespace

BaseMatcher::BaseMatcher(const TarIndex& index) {
  for (const TarIndexEntry& e : index.entries) {
    by_path_.emplace(e.name, &e);
    if (e.size == 0) continue;
    by_content_.emplace(e.content, &e);
    by_shape_[Shape(e.name)].push_back(&e);
    by_base_shape_[Shape(Basename(e.name))].push_back(&e);
  }
}

std::string BaseMatcher::Shape(std::string_view name) {
  std::string out;
  for (size_t i = 0; i < name.size(); ++i) {
    bool digit = std::isdigit(static_cast<unsigned char>(name[i])) != 0;
    if (!digit) out.push_back(name[i]);
    else if (out.empty() || out.back() != '#') out.push_back('#');
  }
  return out;
}

const TarIndexEntry* BaseMatcher::SameContent(const Digest& content) const {
  auto it = by_content_.find(content);
  return it == by_content_.end() ? nullptr : it->second;
}

const TarIndexEntry* BaseMatcher::SamePath(std::string_view name) const {
  auto it = by_path_.find(std::string(name));
  return it == by_path_.end() ? nullptr : it->second;
}

const TarIndexEntry* BaseMatcher::Closest(const std::vector<const TarIndexEntry*>* list,
                                          uint64_t size) const {
  if (list == nullptr) return nullptr;
  const TarIndexEntry* best = nullptr;
  for (const TarIndexEntry* e : *list) {
    if (best == nullptr || Distance(e->size, size) < Distance(best->size, size)) best = e;
  }
  return best;
}

const TarIndexEntry* BaseMatcher::Similar(std::string_view name, uint64_t size) const {
  const TarIndexEntry* same = SamePath(name);
  if (same != nullptr && same->size > 0) return same;
  auto find = [](const auto& map, const std::string& key) {
    auto it = map.find(key);
    return it == map.end() ? nullptr : &it->second;
  };
  if (const TarIndexEntry* e = Closest(find(by_shape_, Shape(name)), size)) return e;
  return Closest(find(by_base_shape_, Shape(Basename(name))), size);
}

}  // namespace outpost::delta
