// Human-readable description of a bundle, for `outpost inspect BUNDLE`.
#pragma once

#include <string>

#include "protocol/bundle_file.h"

namespace outpost::protocol {

// Several lines: format version, signer, target, required bases, per layer the method and
// payload bytes, and the totals (bundle bytes vs registry bytes).
std::string DescribeBundle(const BundleReader& bundle);

// "12.3 MB"-style size for messages (decimal units, as registries and docker report them).
std::string HumanBytes(uint64_t bytes);

}  // namespace outpost::protocol
