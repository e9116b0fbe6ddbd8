// Errors: outpost's one result type at module boundaries.
//
// Every failure is thrown as outpost::Error, which carries a Kind (what sort of failure, so a
// caller can react: retry a Network error, report a Corruption) and a message written for an
// operator: it names the file, blob or host concerned and what is wrong. The CLI prints the
// message as one line and maps the kind to the exit code. Library code never prints.
#pragma once

#include <stdexcept>
#include <string>

namespace outpost {

class Error : public std::runtime_error {
 public:
  enum class Kind {
    kInvalidArgument,  // the caller asked for something malformed (bad reference, flag)
    kNotFound,         // a named thing (file, blob, tag, base) does not exist
    kCorruption,       // stored or received bytes are malformed or fail a digest check
    kUnsupported,      // well-formed input outpost does not handle (unknown media type)
    kIO,               // the operating system refused (disk full, permission)
    kNetwork,          // a peer or registry could not be reached or answered badly
    kSecurity,         // a signature, certificate or path-safety check failed
  };

  Error(Kind kind, const std::string& message) : std::runtime_error(message), kind_(kind) {}

  Kind kind() const { return kind_; }

  // The process exit code the CLI uses for this kind (2 = usage, 3 = not found, 4 = corrupt,
  // 5 = unsupported, 6 = I/O, 7 = network, 8 = security).
  int exit_code() const;

 private:
  Kind kind_;
};

// Shorthands that read well at the throw site: throw Corruption("blob ", d, " is truncated").
template <typename... Parts>
std::string Concat(const Parts&... parts) {
  std::string out;
  ((out += parts), ...);
  return out;
}
template <typename... Parts>
Error InvalidArgument(const Parts&... parts) { return Error(Error::Kind::kInvalidArgument, Concat(parts...)); }
template <typename... Parts>
Error NotFound(const Parts&... parts) { return Error(Error::Kind::kNotFound, Concat(parts...)); }
template <typename... Parts>
Error Corruption(const Parts&... parts) { return Error(Error::Kind::kCorruption, Concat(parts...)); }
template <typename... Parts>
Error Unsupported(const Parts&... parts) { return Error(Error::Kind::kUnsupported, Concat(parts...)); }
template <typename... Parts>
Error IOError(const Parts&... parts) { return Error(Error::Kind::kIO, Concat(parts...)); }
template <typename... Parts>
Error NetworkError(const Parts&... parts) { return Error(Error::Kind::kNetwork, Concat(parts...)); }
template <typename... Parts>
Error SecurityError(const Parts&... parts) { return Error(Error::Kind::kSecurity, Concat(parts...)); }

// An IOError for a failed system call on `path`, with strerror(errno) appended.
Error ErrnoError(const std::string& what, const std::string& path);

}  // namespace outpost
