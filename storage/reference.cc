#include <algorithm>
#include <cctype>

#include "common/error.h"
#include "storage/image_store.h"

namespace outpost::storage {
namespace {

constexpr const char* kForms =
    "expected oci:DIR[:TAG|@sha256:...], oci-archive:FILE[:TAG], docker-archive:FILE[:TAG] or "
    "docker://[HOST[:PORT]/]REPO[:TAG|@sha256:...]";

bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

Error BadReference(const std::string& text, const std::string& why) {
  return InvalidArgument("bad image reference \"", text, "\": ", why, " (", kForms, ")");
}

// Splits "PATH[:TAG]" or "PATH@sha256:..." for the file-based transports.
void SplitPathAndTag(const std::string& rest, bool allow_digest, Reference* ref) {
  size_t at = rest.find("@sha256:");
  if (allow_digest && at != std::string::npos) {
    std::string digest = rest.substr(at + 1);
    if (!Digest::IsValid(digest)) throw BadReference(ref->text, "invalid digest " + digest);
    ref->digest = Digest::Parse(digest);
    ref->location = rest.substr(0, at);
  } else {
    size_t colon = rest.find(':');
    ref->location = rest.substr(0, colon);
    if (colon != std::string::npos) {
      ref->tag = rest.substr(colon + 1);
      if (ref->tag.empty()) throw BadReference(ref->text, "empty tag after ':'");
    }
  }
  if (ref->location.empty()) throw BadReference(ref->text, "missing path");
}

bool IsValidRepository(std::string_view repo) {
  if (repo.empty() || repo.front() == '/' || repo.back() == '/') return false;
  return std::all_of(repo.begin(), repo.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-' || c == '/';
  });
}

bool IsValidTag(std::string_view tag) {
  if (tag.empty() || tag.size() > 128 || tag.front() == '.' || tag.front() == '-') return false;
  return std::all_of(tag.begin(), tag.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-';
  });
}

void ParseDocker(const std::string& rest, Reference* ref) {
  std::string name = rest;
  if (size_t at = name.find('@'); at != std::string::npos) {
    std::string digest = name.substr(at + 1);
    if (!Digest::IsValid(digest)) throw BadReference(ref->text, "invalid digest " + digest);
    ref->digest = Digest::Parse(digest);
    name.resize(at);
  }
  size_t last_slash = name.rfind('/');
  size_t colon = name.find(':', last_slash == std::string::npos ? 0 : last_slash);
  if (colon != std::string::npos) {
    ref->tag = name.substr(colon + 1);
    name.resize(colon);
    if (!IsValidTag(ref->tag)) throw BadReference(ref->text, "invalid tag \"" + ref->tag + "\"");
  }
  size_t slash = name.find('/');
  std::string first = name.substr(0, slash);
  std::string host = "docker.io";
  std::string repo = name;
  if (slash != std::string::npos &&
      (first.find('.') != std::string::npos || first.find(':') != std::string::npos || first == "localhost")) {
    host = first;
    repo = name.substr(slash + 1);
  } else if (slash == std::string::npos) {
    repo = "library/" + name;
  }
  if (!IsValidRepository(repo)) throw BadReference(ref->text, "invalid repository \"" + repo + "\"");
  if (ref->tag.empty() && !ref->digest) ref->tag = "latest";
  ref->location = host + "/" + repo;
}

}  // namespace

Reference Reference::Parse(const std::string& text) {
  Reference ref;
  ref.text = text;
  struct Prefix {
    std::string_view prefix;
    Transport transport;
  };
  for (const Prefix& p : {Prefix{"oci:", Transport::kOci}, Prefix{"oci-archive:", Transport::kOciArchive},
                          Prefix{"docker-archive:", Transport::kDockerArchive},
                          Prefix{"docker://", Transport::kDocker}}) {
    if (!StartsWith(text, p.prefix)) continue;
    ref.transport = p.transport;
    std::string rest = text.substr(p.prefix.size());
    if (rest.empty()) throw BadReference(text, "nothing after the transport");
    if (p.transport == Transport::kDocker) {
      ParseDocker(rest, &ref);
    } else {
      SplitPathAndTag(rest, p.transport == Transport::kOci, &ref);
    }
    return ref;
  }
  throw BadReference(text, "unknown transport");
}

std::string Reference::host() const { return location.substr(0, location.find('/')); }

std::string Reference::repository() const {
  size_t slash = location.find('/');
  return slash == std::string::npos ? std::string() : location.substr(slash + 1);
}

}  // namespace outpost::storage
