// Feeds arbitrary bytes to the tar reader: every entry and the trailer are read; it must end
// cleanly or throw outpost::Error, never crash.
#include <cstddef>
#include <cstdint>
#include <string>

#include "common/error.h"
#include "tar/tar_reader.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  outpost::StringReader in(std::string(reinterpret_cast<const char*>(data), size));
  outpost::tar::Reader reader(in);
  outpost::tar::Entry entry;
  uint8_t buf[4096];
  try {
    while (reader.Next(&entry)) {
      while (reader.ReadData(buf, sizeof(buf)) > 0) {
      }
    }
    while (reader.ReadTrailer(buf, sizeof(buf)) > 0) {
    }
  } catch (const outpost::Error&) {
  }
  return 0;
}
