// Reads arbitrary bytes as a layer signature (what a hub receives from an agent) and, when they
// parse, encodes a small fixed target against it: both must succeed or throw outpost::Error,
// never crash. A delta made from a lying signature may fail to apply; that is the applier's
// check, not this one.
#include <cstddef>
#include <cstdint>
#include <string>

#include "common/error.h"
#include "delta/signature.h"
#include "fuzz/fixed_tars.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    outpost::StringReader in(std::string(reinterpret_cast<const char*>(data), size));
    outpost::delta::BlockSignature signature = outpost::delta::BlockSignature::Read(in);
    outpost::StringReader target(outpost::fuzz::FixedTargetTar());
    outpost::NullWriter out;
    outpost::delta::EncodeLayerDeltaFromBlockSignature(signature, target, out);
  } catch (const outpost::Error&) {
  }
  return 0;
}
