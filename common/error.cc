#include "common/error.h"

#include <cerrno>
#include <cstring>

namespace outpost {

int Error::exit_code() const {
  switch (kind_) {
    case Kind::kInvalidArgument: return 2;
    case Kind::kNotFound: return 3;
    case Kind::kCorruption: return 4;
    case Kind::kUnsupported: return 5;
    case Kind::kIO: return 6;
    case Kind::kNetwork: return 7;
    case Kind::kSecurity: return 8;
  }
  return 1;
}

Error ErrnoError(const std::string& what, const std::string& path) {
  return IOError(what, " ", path, ": ", std::strerror(errno));
}

}  // namespace outpost
