// Applies arbitrary bytes as a layer delta and as a raw delta against a small fixed base (what
// an agent does with a delta a hub sent): each must rebuild a target or throw outpost::Error,
// never crash, hang or allocate without bound.
#include <cstddef>
#include <cstdint>
#include <string>

#include "common/error.h"
#include "delta/layer_delta.h"
#include "delta/test_util.h"
#include "fuzz/fixed_tars.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const outpost::delta::testing::StringRandomAccess base(outpost::fuzz::FixedBaseTar());
  const std::string delta(reinterpret_cast<const char*>(data), size);
  try {
    outpost::StringReader in(delta);
    outpost::NullWriter out;
    outpost::delta::ApplyLayerDelta(base, in, out);
  } catch (const outpost::Error&) {
  }
  try {
    outpost::StringReader in(delta);
    outpost::NullWriter out;
    outpost::delta::ApplyRawDelta(base, in, out);
  } catch (const outpost::Error&) {
  }
  return 0;
}
