// Matchers for outpost's error model: a test that names a failure says which kind it is.
//
//   EXPECT_THAT([&] { reader.Open(bad); }, ThrowsKind(Error::Kind::kCorruption));
//   EXPECT_THAT([&] { Apply(o); }, ThrowsKind(Error::Kind::kSecurity, HasSubstr("signed by")));
#pragma once

#include <functional>
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

// The kind of outpost::Error that `f` throws (its message into `*message` when given); a test
// failure, reported as kIO, when `f` throws none. For tests that assert a kind per case in a
// loop or table; elsewhere ThrowsKind reads better.
inline Error::Kind KindOf(const std::function<void()>& f, std::string* message = nullptr) {
  try {
    f();
  } catch (const Error& e) {
    if (message != nullptr) *message = e.what();
    return e.kind();
  }
  ADD_FAILURE() << "no error thrown";
  return Error::Kind::kIO;
}

}  // namespace outpost::testing

namespace outpost {
// Prints a kind by name in gmock's failure messages.
inline void PrintTo(Error::Kind kind, std::ostream* os) {
  static const char* const kNames[] = {"InvalidArgument", "NotFound", "Corruption", "Unsupported", "IO", "Network", "Security"};
  *os << kNames[static_cast<int>(kind)];
}
}  // namespace outpost
