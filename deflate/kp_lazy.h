// Ported from github.com/klauspost/compress v1.15.12, flate/deflate.go (deflateLazy).
// Levels 7-9 of the klauspost flate encoder (internal to deflate/): hash chains with lazy
// matching, blocks of up to 32768 tokens.
#pragma once

#include <memory>
#include <string_view>

#include "common/io.h"
#include "deflate/klauspost_flate.h"

namespace outpost::deflate::kp {

// Throws Error(InvalidArgument) when an encoder is used after Finish().
void ThrowIfFinished(bool finished);

// See NewKlauspostEncoder; level is 7..9.
std::unique_ptr<KlauspostEncoder> NewLazyEncoder(int level, Writer& out,
                                                 std::string_view dictionary);

}  // namespace outpost::deflate::kp
