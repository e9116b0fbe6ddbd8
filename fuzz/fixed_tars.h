// The small fixed tars the delta fuzzers work against, and the seed generator encodes with: a
// base as the far side would hold it and a target that shares, changes and adds files. Built
// in memory, the same bytes on every machine.
#pragma once

#include <string>

namespace outpost::fuzz {

// A base layer of a few files (text, binary-like, empty, a symlink-free directory tree).
const std::string& FixedBaseTar();
// The next version of FixedBaseTar(): one file unchanged, one edited, one new.
const std::string& FixedTargetTar();

}  // namespace outpost::fuzz
