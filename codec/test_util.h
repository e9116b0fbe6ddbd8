// Helpers shared by the codec tests: in-memory compression; sample text comes from
// tests/support/bytes.h.
#pragma once

#include <string>

#include "codec/rebuild.h"
#include "common/io.h"
#include "tests/support/bytes.h"

namespace outpost::codec::testing {

using outpost::testing::TextBytes;

// Compresses `data` with the recipe given as text.
inline std::string Compress(const std::string& recipe, const std::string& data) {
  StringReader in(data);
  StringWriter out;
  Rebuild(Recipe::Parse(recipe), in, out);
  return out.str();
}

}  // namespace outpost::codec::testing
