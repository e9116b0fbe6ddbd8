// Feeds arbitrary bytes to the streaming zstd decoder: it must end cleanly or throw
// outpost::Error, never crash.
#include <cstddef>
#include <cstdint>
#include <string>

#include "common/error.h"
#include "compress/zstd.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  outpost::StringReader in(std::string(reinterpret_cast<const char*>(data), size));
  outpost::compress::ZstdReader reader(in, "fuzz input");
  uint8_t buf[4096];
  try {
    while (reader.Read(buf, sizeof(buf)) > 0) {
    }
  } catch (const outpost::Error&) {
  }
  return 0;
}
