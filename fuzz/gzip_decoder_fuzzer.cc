// Feeds arbitrary bytes to the streaming gzip decoder: it must end cleanly or throw
// outpost::Error (Corruption), never crash, hang or read out of bounds.
#include <cstddef>
#include <cstdint>
#include <string>

#include "common/error.h"
#include "compress/gzip_reader.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  outpost::StringReader in(std::string(reinterpret_cast<const char*>(data), size));
  outpost::compress::GzipReader reader(in);
  uint8_t buf[4096];
  try {
    while (reader.Read(buf, sizeof(buf)) > 0) {
    }
  } catch (const outpost::Error&) {
  }
  return 0;
}
