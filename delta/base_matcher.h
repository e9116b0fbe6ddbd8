// Finds, for a target file, the base file to delta it against: the same content anywhere in the
// base, else the same path, else the same path with version numbers changed (libssl.so.3 vs
// libssl.so.1.1, python3.11 vs python3.12), else the same basename with numbers changed; among
// several candidates the closest in size.
#pragma once

#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "delta/layer_delta.h"

namespace outpost::delta {

class BaseMatcher {
 public:
  // Keeps a reference to `index`, which must outlive the matcher.
  explicit BaseMatcher(const TarIndex& index);

  // A base entry with exactly this content, or null.
  const TarIndexEntry* SameContent(const Digest& content) const;
  // A base entry with this exact path (any type), or null (for delta-ing headers).
  const TarIndexEntry* SamePath(std::string_view name) const;
  // The most similar base file with content, as described above, or null.
  const TarIndexEntry* Similar(std::string_view name, uint64_t size) const;

  // `name` with every run of digits replaced by '#'.
  static std::string Shape(std::string_view name);

 private:
  const TarIndexEntry* Closest(const std::vector<const TarIndexEntry*>* list, uint64_t size) const;

  std::unordered_map<Digest, const TarIndexEntry*> by_content_;
  std::unordered_map<std::string, const TarIndexEntry*> by_path_;
  std::unordered_map<std::string, std::vector<const TarIndexEntry*>> by_shape_;
  std::unordered_map<std::string, std::vector<const TarIndexEntry*>> by_base_shape_;
};

}  // namespace outpost::delta
