// Parses arbitrary text as a recipe: it must be rejected with outpost::Error or accepted, and an
// accepted recipe must print back to text that parses to the same recipe.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "codec/recipe.h"
#include "common/error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  outpost::codec::Recipe recipe;
  try {
    recipe = outpost::codec::Recipe::Parse(text);
  } catch (const outpost::Error&) {
    return 0;
  }
  if (!(outpost::codec::Recipe::Parse(recipe.str()) == recipe)) std::abort();
  return 0;
}
