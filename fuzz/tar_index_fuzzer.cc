// Parses arbitrary bytes as a serialized tar index (the hub's cache, a signature's first part):
// they must be rejected with outpost::Error or accepted, and an accepted index must serialize to
// bytes that parse back to it. (Not byte for byte to the input: overlong varints are accepted.)
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "common/error.h"
#include "delta/layer_delta.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  outpost::delta::TarIndex index;
  try {
    index = outpost::delta::TarIndex::Parse(bytes);
  } catch (const outpost::Error&) {
    return 0;
  }
  const std::string again = index.Serialize();
  if (outpost::delta::TarIndex::Parse(again).Serialize() != again) std::abort();
  return 0;
}
