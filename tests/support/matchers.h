// Matchers for outpost's error model: a test that names a failure says which kind it is.
//
//   EXPECT_THAT([&] { reader.Open(bad); }, ThrowsKind(Error::Kind::kCorruption));
//   EXPECT_THAT([&] { Apply(o); }, ThrowsKind(Error::Kind::kSecurity, HasSubstr("signed by")));
#pragma once

#include <string>

#include <gmock/gmock.h>

#include "common/error.h"

namespace outpost::testing {

// Matches a callable that throws outpost::Error of `kind`; any other exception, or none, fails
// and the failure message shows what was thrown.
inline auto ThrowsKind(Error::Kind kind) {
  return ::testing::Throws<Error>(::testing::Property("kind", &Error::kind, kind));
}

// As above, and the error's message matches `message` (e.g. HasSubstr("chunk 3")).
template <typename MessageMatcher>
auto ThrowsKind(Error::Kind kind, MessageMatcher message) {
  return ::testing::Throws<Error>(::testing::AllOf(
      ::testing::Property("kind", &Error::kind, kind),
      ::testing::Property("what", &Error::what, ::testing::ResultOf([](const char* s) { return std::string(s); }, message))));
}

}  // namespace outpost::testing

namespace outpost {
// Prints a kind by name in gmock's failure messages.
inline void PrintTo(Error::Kind kind, std::ostream* os) {
  static const char* const kNames[] = {"InvalidArgument", "NotFound", "Corruption", "Unsupported", "IO", "Network", "Security"};
  *os << kNames[static_cast<int>(kind)];
}
}  // namespace outpost
