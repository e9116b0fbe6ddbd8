#include "registry/registry_store.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <optional>
#include <string_view>

#include "common/digest.h"
#include "common/io.h"

namespace outpost::registry {

namespace {

constexpr size_t kManifestLimit = 4 << 20;  // distribution's own limit for manifest bodies

// The media type a manifest was served with, when it is one outpost knows; else "" (then
// ManifestBlob::FromBytes reads the document's mediaType or infers it).
std::string KnownMediaType(const std::string& content_type) {
  std::string type = content_type.substr(0, content_type.find(';'));
  for (std::string_view known : {image::media::kOciManifest, image::media::kOciIndex,
                                 image::media::kDockerManifest, image::media::kDockerList}) {
    if (type == known) return type;
  }
  return "";
}

// "</v2/x/tags/list?last=a&n=100>; rel="next"" -> "/v2/x/tags/list?last=a&n=100".
std::string NextLink(const std::string& link) {
  size_t open = link.find('<');
  size_t close = link.find('>');
  if (open == std::string::npos || close == std::string::npos || close < open) return "";
  if (link.find("next", close) == std::string::npos) return "";
  return link.substr(open + 1, close - open - 1);
}

// The offset an upload continues from, given the Range header of the upload status ("0-LAST":
// the registry holds bytes 0..LAST; distribution also says "0-0" for an empty upload). nullopt
// when the header is not of that form.
std::optional<uint64_t> UploadResumeOffset(std::string_view range) {
  if (range.empty()) return 0;  // nothing held yet
  if (!range.starts_with("0-") || range.size() > 2 + 19) return std::nullopt;
  uint64_t last = 0;
  for (char c : range.substr(2)) {
    if (c < '0' || c > '9') return std::nullopt;
    last = last * 10 + static_cast<uint64_t>(c - '0');
  }
  if (range.size() == 2) return std::nullopt;
  return last == 0 ? 0 : last + 1;
}

// A blob download that reopens the request with Range after a connection breaks.
class BlobReader : public Reader {
 public:
  BlobReader(std::unique_ptr<RegistryClient> client, std::string repository, Digest digest,
             uint64_t offset, std::vector<std::string> scopes, TransferStats& stats)
      : client_(std::move(client)),
        repository_(std::move(repository)),
        digest_(digest),
        pos_(offset),
        last_break_(offset),
        scopes_(std::move(scopes)),
        stats_(stats) {}

  size_t Read(uint8_t* buf, size_t n) override {
    for (;;) {
      if (conn_ == nullptr) Open();
      try {
        size_t got = conn_->ReadBody(buf, n);
        pos_ += got;
        return got;
      } catch (const Error& e) {
        if (e.kind() != Error::Kind::kNetwork) throw;
        conn_ = nullptr;
        // Only a stretch of real progress earns a fresh count: a server that sends a byte and
        // closes gets max_attempts resumes, not one per byte.
        if (pos_ - last_break_ >= client_->options().resume_progress_bytes) failures_ = 0;
        last_break_ = pos_;
        if (++failures_ >= client_->options().max_attempts) {
          throw NetworkError("registry ", client_->host(), ", repository ", repository_, ": blob ",
                             digest_.str(), " broke off at byte ", std::to_string(pos_), " ",
                             std::to_string(failures_), " times without ",
                             std::to_string(client_->options().resume_progress_bytes),
                             " bytes of progress in between: ", e.what());
        }
        ++stats_.download_resumes;
        client_->Backoff(failures_, nullptr);
      }
    }
  }

  void Open() {
    Call call{"GET", "/v2/" + repository_ + "/blobs/" + digest_.str(), {}, {}, scopes_, true, true, true};
    if (pos_ > 0) call.headers.emplace_back("Range", "bytes=" + std::to_string(pos_) + "-");
    Reply reply = client_->Do(call);
    if (reply.status() == 206 && pos_ > 0) {
      std::string range = reply.header("Content-Range");
      if (range.find("bytes " + std::to_string(pos_) + "-") != 0) {
        reply.connection->Close();
        throw NetworkError("registry ", client_->host(), ": blob ", digest_.str(),
                           " answered Range from ", std::to_string(pos_), " with \"", range, "\"");
      }
    } else if (reply.status() == 200) {
      Skip(*reply.connection, pos_);  // the server ignored Range: drop what we already have
    } else {
      std::string body = reply.connection->ReadBodyString();
      throw RegistryError(client_->host(), repository_, "GET blob " + digest_.str(), reply.status(), body);
    }
    conn_ = reply.connection;
  }

  void Skip(HttpConnection& conn, uint64_t n) {
    uint8_t buf[64 << 10];
    while (n > 0) {
      size_t got = conn.ReadBody(buf, static_cast<size_t>(std::min<uint64_t>(n, sizeof(buf))));
      if (got == 0) {
        throw NetworkError("registry ", client_->host(), ", repository ", repository_, ": blob ", digest_.str(),
                           " ended before byte ", std::to_string(pos_), " when asked to resume there");
      }
      n -= got;
    }
  }

  std::unique_ptr<RegistryClient> client_;
  std::string repository_;
  Digest digest_;
  uint64_t pos_;
  uint64_t last_break_;  // pos_ when the connection last broke (or the start)
  std::vector<std::string> scopes_;
  TransferStats& stats_;
  HttpConnection* conn_ = nullptr;
  int failures_ = 0;
};

}  // namespace

void BlobSources::Add(const std::string& host, const std::string& repository, const Digest& digest) {
  std::lock_guard lock(mu_);
  known_[{host, digest}].insert(repository);
}

std::string BlobSources::Find(const std::string& host, const std::string& not_this, const Digest& digest) {
  std::lock_guard lock(mu_);
  auto it = known_.find({host, digest});
  if (it == known_.end()) return "";
  for (const auto& repo : it->second) {
    if (repo != not_this) return repo;
  }
  return "";
}

RegistryStore::RegistryStore(std::string repository, std::unique_ptr<RegistryClient> client,
                             std::shared_ptr<BlobSources> sources)
    : host_(client->host()),
      repository_(std::move(repository)),
      client_(std::move(client)),
      sources_(std::move(sources)) {}

RegistryStore::~RegistryStore() = default;

std::string RegistryStore::Describe() const { return "docker://" + host_ + "/" + repository_; }

std::string RegistryStore::Scope(bool push) const {
  return "repository:" + repository_ + (push ? ":pull,push" : ":pull");
}

Error RegistryStore::Fail(const Reply& reply, const std::string& action) {
  std::string body;
  try {
    body = reply.connection->ReadBodyString();
  } catch (const Error&) {
    reply.connection->Close();  // the status says enough
  }
  return RegistryError(host_, repository_, action, reply.status(), body);
}

std::vector<std::string> RegistryStore::ListPaged(std::string target, const std::string& key,
                                                  const std::vector<std::string>& scopes) {
  std::vector<std::string> out;
  while (!target.empty()) {
    Reply reply = client_->Do({"GET", target, {}, {}, scopes});
    if (reply.status() != 200) throw Fail(reply, "GET " + target);
    std::string body = reply.connection->ReadBodyString(kManifestLimit);
    nlohmann::json doc = nlohmann::json::parse(body, nullptr, false);
    if (!doc.is_object()) throw Corruption("registry ", host_, ": ", target, " did not return JSON");
    if (doc.contains(key) && doc[key].is_array()) {
      for (const auto& item : doc[key]) {
        if (item.is_string()) out.push_back(item.get<std::string>());
      }
    }
    target = NextLink(reply.header("Link"));
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<std::string> RegistryStore::ListTags() {
  return ListPaged("/v2/" + repository_ + "/tags/list?n=" + std::to_string(client_->options().page_size), "tags", {Scope(false)});
}

std::vector<std::string> RegistryStore::ListRepositories() {
  return ListPaged("/v2/_catalog?n=" + std::to_string(client_->options().page_size), "repositories", {"registry:catalog:*"});
}

image::ManifestBlob RegistryStore::ReadManifest(const std::string& tag_or_digest) {
  std::string accept = Concat(image::media::kOciManifest, ", ", image::media::kOciIndex, ", ",
                              image::media::kDockerManifest, ", ", image::media::kDockerList);
  Reply reply = client_->Do({"GET", "/v2/" + repository_ + "/manifests/" + tag_or_digest,
                             {{"Accept", accept}}, {}, {Scope(false)}});
  if (reply.status() == 404) {
    reply.connection->DiscardBody();
    throw NotFound(Describe(), " has no manifest ", tag_or_digest);
  }
  if (reply.status() != 200) throw Fail(reply, "GET manifest " + tag_or_digest);
  std::string media_type = KnownMediaType(reply.header("Content-Type"));
  image::ManifestBlob blob =
      image::ManifestBlob::FromBytes(reply.connection->ReadBodyString(kManifestLimit), media_type);
  if (Digest::IsValid(tag_or_digest) && Digest::Parse(tag_or_digest) != blob.digest) {
    throw Corruption(Describe(), ": manifest ", tag_or_digest, " was served with bytes hashing to ",
                     blob.digest.str());
  }
  std::string said = reply.header("Docker-Content-Digest");
  if (!said.empty() && said != blob.digest.str()) {
    throw Corruption(Describe(), ": manifest ", tag_or_digest, " has Docker-Content-Digest ", said,
                     " but its bytes hash to ", blob.digest.str());
  }
  if (!blob.is_index()) {
    for (const auto& named : image::ReferencedDescriptors(blob)) {
      sources_->Add(host_, repository_, named.digest);
    }
  }
  return blob;
}

bool RegistryStore::HeadBlob(const Digest& digest) {
  Reply reply = client_->Do({"HEAD", "/v2/" + repository_ + "/blobs/" + digest.str(), {}, {},
                             {Scope(false)}, true, true});
  if (reply.status() == 200) return true;
  if (reply.status() == 404) return false;
  throw Fail(reply, "HEAD blob " + digest.str());
}

bool RegistryStore::TryMount(const Digest& digest) {
  std::string from = sources_->Find(host_, repository_, digest);
  if (from.empty()) return false;
  std::string target = AddQuery(AddQuery("/v2/" + repository_ + "/blobs/uploads/", "mount", digest.str()),
                                "from", from);
  Reply reply = client_->Do({"POST", target, {}, {}, {Scope(true), "repository:" + from + ":pull"}});
  if (reply.status() == 201) {
    reply.connection->DiscardBody();
    ++stats_.blobs_mounted;
    return true;
  }
  if (reply.status() == 202) {  // the registry opened an upload instead: not needed now
    std::string location = reply.header("Location");
    reply.connection->DiscardBody();
    CancelUpload(location);
    return false;
  }
  throw Fail(reply, "mount blob " + digest.str() + " from " + from);
}

bool RegistryStore::HasBlob(const Digest& digest) {
  if (HeadBlob(digest)) {
    sources_->Add(host_, repository_, digest);
    return true;
  }
  return TryMount(digest);
}

std::unique_ptr<Reader> RegistryStore::OpenBlob(const Digest& digest, uint64_t offset) {
  sources_->Add(host_, repository_, digest);
  auto reader = std::make_unique<BlobReader>(client_->Fork(), repository_, digest, offset,
                                             std::vector<std::string>{Scope(false)}, stats_);
  reader->Open();  // so a missing blob is NotFound here, not at the first Read
  return reader;
}

std::string RegistryStore::StartUpload() {
  Reply reply = client_->Do({"POST", "/v2/" + repository_ + "/blobs/uploads/", {}, {}, {Scope(true)}});
  if (reply.status() != 202) throw Fail(reply, "start blob upload");
  std::string location = reply.header("Location");
  reply.connection->DiscardBody();
  if (location.empty()) {
    throw NetworkError("registry ", host_, ", repository ", repository_, " started an upload without a Location");
  }
  return ResolveLocation(reply, location, "start blob upload");
}

std::pair<uint64_t, std::string> RegistryStore::UploadOffset(const std::string& location) {
  Reply reply = client_->Do({"GET", location, {}, {}, {Scope(true)}});
  if (reply.status() != 204 && reply.status() != 200) throw Fail(reply, "query upload status");
  reply.connection->DiscardBody();
  std::string range = reply.header("Range");
  std::optional<uint64_t> held = UploadResumeOffset(range);
  if (!held) {
    throw NetworkError("registry ", host_, ", repository ", repository_, ": the upload status at ", location,
                       " has a malformed Range header \"", range, "\" (want \"0-LAST\")");
  }
  std::string next = reply.header("Location");
  return {*held, next.empty() ? location : ResolveLocation(reply, next, "upload status")};
}

std::string RegistryStore::ResolveLocation(const Reply& reply, const std::string& location, const std::string& action) const {
  try {
    return reply.url.Resolve(location).str();
  } catch (const Error&) {
    throw NetworkError("registry ", host_, ", repository ", repository_, ": ", action, " answered with an unusable Location \"",
                       location, "\"");
  }
}

std::string RegistryStore::SendChunk(std::string location, const uint8_t* data, size_t n,
                                     uint64_t start) {
  uint64_t from = start;
  for (int failures = 0;;) {
    size_t skip = static_cast<size_t>(from - start);
    std::string_view body(reinterpret_cast<const char*>(data) + skip, n - skip);
    Call call{"PATCH", location,
              {{"Content-Type", "application/octet-stream"},
               {"Content-Range", std::to_string(from) + "-" + std::to_string(start + n - 1)}},
              body, {Scope(true)}, false};
    stats_.upload_bytes_sent += body.size();
    std::string failure;
    try {
      Reply reply = client_->Do(call);
      if (reply.status() == 202) {
        std::string next = reply.header("Location");
        reply.connection->DiscardBody();
        return next.empty() ? location : ResolveLocation(reply, next, "upload blob chunk");
      }
      if (!IsRetryableStatus(reply.status())) throw Fail(reply, "upload blob chunk");
      failure = "HTTP " + std::to_string(reply.status());
      reply.connection->DiscardBody();
    } catch (const Error& e) {
      if (e.kind() != Error::Kind::kNetwork) throw;
      failure = e.what();
    }
    if (++failures >= client_->options().max_attempts) {
      throw NetworkError("registry ", host_, ", repository ", repository_, ": upload stuck at byte ",
                         std::to_string(from), " after ", std::to_string(failures), " attempts: ", failure);
    }
    client_->Backoff(failures, nullptr);
    // Ask the registry how much of the upload it kept, and go on from there.
    auto [held, next] = UploadOffset(location);
    if (held < start || held > start + n) {
      throw NetworkError("registry ", host_, ", repository ", repository_, ": the upload session kept ",
                         std::to_string(held), " bytes, outside the chunk [", std::to_string(start), ", ",
                         std::to_string(start + n), ") still held here; run the copy again");
    }
    ++stats_.upload_resumes;
    from = held;
    location = next;
    if (from == start + n) return location;
  }
}

void RegistryStore::FinishUpload(const std::string& location, const Digest& digest) {
  Url url = Url::Parse(location);  // made by ResolveLocation: well formed
  Reply reply = client_->Do({"PUT", AddQuery(url.target, "digest", digest.str()), {}, {}, {Scope(true)}});
  if (reply.status() == 404 && HeadBlob(digest)) return;  // an earlier, lost answer committed it
  if (reply.status() != 201) throw Fail(reply, "commit blob " + digest.str());
  std::string said = reply.header("Docker-Content-Digest");
  reply.connection->DiscardBody();
  if (!said.empty() && said != digest.str()) {
    throw Corruption("registry ", host_, ", repository ", repository_, ": blob ", digest.str(), " was stored as ", said);
  }
}

void RegistryStore::CancelUpload(const std::string& location) noexcept {
  try {
    Reply reply = client_->Do({"DELETE", location, {}, {}, {Scope(true)}, false});
    reply.connection->DiscardBody();
  } catch (const Error&) {
    // Best effort: the registry expires abandoned uploads on its own.
  }
}

void RegistryStore::WriteBlob(const Digest& digest, int64_t size, Reader& content) {
  if (HeadBlob(digest)) {  // present already: the contract still drains and checks `content`
    storage::VerifyingReader check(std::make_unique<ReaderRef>(content), digest, size,
                                   "blob " + digest.str() + " for " + Describe());
    NullWriter sink;
    Copy(check, sink);
    return;
  }
  std::string location = StartUpload();
  try {
    std::vector<uint8_t> chunk(client_->options().chunk_size);
    Sha256 sha;
    uint64_t offset = 0;
    for (;;) {
      size_t n = ReadUpTo(content, chunk.data(), chunk.size());
      sha.Update(chunk.data(), n);
      if (offset + n > static_cast<uint64_t>(size)) {
        throw Corruption("blob ", digest.str(), " is longer than the ", std::to_string(size),
                         " bytes its descriptor says; nothing written to ", Describe());
      }
      if (n > 0) location = SendChunk(location, chunk.data(), n, offset);
      offset += n;
      if (n < chunk.size()) break;
    }
    Digest got = sha.Finish();
    if (offset != static_cast<uint64_t>(size) || got != digest) {
      throw Corruption("blob ", digest.str(), " read as ", std::to_string(offset), " bytes with ",
                       got.str(), " (expected ", std::to_string(size),
                       " bytes); nothing written to ", Describe());
    }
    FinishUpload(location, digest);
  } catch (...) {
    CancelUpload(location);
    throw;
  }
}

void RegistryStore::WriteManifest(const image::ManifestBlob& manifest, const std::string& tag) {
  std::string ref = tag.empty() ? manifest.digest.str() : tag;
  Reply reply = client_->Do({"PUT", "/v2/" + repository_ + "/manifests/" + ref,
                             {{"Content-Type", manifest.media_type}}, manifest.bytes, {Scope(true)}});
  if (reply.status() != 201) throw Fail(reply, "PUT manifest " + ref);
  std::string said = reply.header("Docker-Content-Digest");
  reply.connection->DiscardBody();
  if (!said.empty() && said != manifest.digest.str()) {
    throw Corruption("registry ", host_, ", repository ", repository_, ": manifest ",
                     manifest.digest.str(), " was stored as ", said);
  }
}

}  // namespace outpost::registry
