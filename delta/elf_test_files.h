// The ELF_REF tests' real ELF pairs (delta/CMakeLists.txt builds delta/testdata/elf_sample.c
// twice per kind) and a reader for them.
#pragma once

#include <fstream>
#include <sstream>
#include <string>

#include "common/error.h"

namespace outpost::delta::testing {

// The bytes of build `version` (1 or 2) of the sample program of `kind` ("pie", "nopie",
// "stripped"; AArch64: "a64_pie", "a64_nopie", "a64_stripped"). Throws NotFound when the build
// step has not made it.
inline std::string ElfSample(const std::string& kind, int version) {
  std::string path = std::string(OUTPOST_ELF_PAIRS_DIR) + "/" + kind + "_v" + std::to_string(version);
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw NotFound("ELF test file ", path, " is missing (build target outpost_delta_elf_pairs; the AArch64 ones need ",
                   "gcc-aarch64-linux-gnu: packaging/install-deps.sh --test)");
  }
  std::ostringstream bytes;
  bytes << in.rdbuf();
  return bytes.str();
}

}  // namespace outpost::delta::testing
