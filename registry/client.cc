#include "registry/client.h"

#include <algorithm>
#include <cmath>
#include <mutex>
#include <nlohmann/json.hpp>
#include <random>
#include <thread>

namespace outpost::registry {

// What every fork of a client shares.
struct RegistryClient::Shared {
  Credentials creds;
  TlsOptions tls;
  bool allow_http = false;  // --tls-verify=false, or a loopback registry
  std::mutex mu;
  std::optional<Url> base;  // scheme://host:port once decided
  std::optional<Challenge> challenge;
  TokenCache tokens;
};

bool IsRetryableStatus(int status) { return status == 408 || status == 429 || status >= 500; }

bool IsLoopbackHost(const std::string& host) {
  std::string name = host;
  if (name.starts_with("[")) {
    name = name.substr(1, name.find(']') - 1);
  } else if (std::count(name.begin(), name.end(), ':') == 1) {
    name = name.substr(0, name.find(':'));
  }
  return name == "localhost" || name == "::1" || name.starts_with("127.");
}

std::chrono::milliseconds BackoffDelay(int retry, const ClientOptions& options,
                                       std::string_view retry_after) {
  thread_local std::mt19937 rng{std::random_device{}()};
  double base = static_cast<double>(options.backoff_base.count()) * std::pow(2.0, retry - 1);
  base = std::min(base, static_cast<double>(options.backoff_cap.count()));
  double jitter = std::uniform_real_distribution<double>(0.5, 1.0)(rng);
  auto delay = std::chrono::milliseconds(static_cast<int64_t>(base * jitter));
  if (!retry_after.empty() &&
      std::all_of(retry_after.begin(), retry_after.end(), [](char c) { return c >= '0' && c <= '9'; }) &&
      retry_after.size() < 7) {
    auto asked = std::chrono::seconds(std::stoi(std::string(retry_after)));
    delay = std::max(delay, std::min<std::chrono::milliseconds>(asked, options.retry_after_cap));
  }
  return delay;
}

Url TokenRealm(const std::string& host, const Url& registry, const std::string& realm) {
  Url url;
  try {
    url = Url::Parse(realm);
  } catch (const Error&) {
    throw SecurityError("registry ", host, " names a token realm that is not an http(s) URL: \"", realm, "\"");
  }
  if (url.scheme == "http" && registry.scheme == "https") {
    throw SecurityError("registry ", host, " is reached over https but sends clients to the plain-http token realm ",
                        realm, ": refused, credentials and tokens would cross in clear text");
  }
  return url;
}

Error RegistryError(const std::string& host, const std::string& repository,
                    const std::string& action, int status, std::string_view body) {
  std::string code;
  std::string message;
  nlohmann::json doc = nlohmann::json::parse(body, nullptr, false);
  if (doc.is_object() && doc.contains("errors") && doc["errors"].is_array() && !doc["errors"].empty()) {
    const auto& first = doc["errors"][0];
    if (first.contains("code") && first["code"].is_string()) code = first["code"].get<std::string>();
    if (first.contains("message") && first["message"].is_string()) {
      message = first["message"].get<std::string>();
    }
  }
  std::string text = Concat("registry ", host, repository.empty() ? "" : ", repository " + repository,
                            ": ", action, ": HTTP ", std::to_string(status));
  if (!code.empty()) text += " " + code;
  if (!message.empty()) text += " (" + message + ")";
  Error::Kind kind = Error::Kind::kNetwork;
  if (status == 404) kind = Error::Kind::kNotFound;
  if (status == 401 || status == 403) kind = Error::Kind::kSecurity;
  if (code == "DIGEST_INVALID" || code == "SIZE_INVALID" || code == "MANIFEST_INVALID" ||
      code == "BLOB_UPLOAD_INVALID") {
    kind = Error::Kind::kCorruption;
  }
  return Error(kind, text);
}

RegistryClient::RegistryClient(std::string host, const AccessOptions& options, ClientOptions client)
    : shared_(std::make_shared<Shared>()), host_(std::move(host)), client_(client) {
  shared_->creds = FindCredentials(host_, options);
  shared_->tls.verify = options.tls_verify.value_or(true);
  shared_->tls.cert_dir = options.cert_dir;
  shared_->allow_http = options.tls_verify == false || IsLoopbackHost(host_);
}

RegistryClient::RegistryClient(std::shared_ptr<Shared> shared, std::string host, ClientOptions client)
    : shared_(std::move(shared)), host_(std::move(host)), client_(client) {}

RegistryClient::~RegistryClient() = default;

std::unique_ptr<RegistryClient> RegistryClient::Fork() {
  return std::unique_ptr<RegistryClient>(new RegistryClient(shared_, host_, client_));
}

void RegistryClient::Backoff(int retry, const HttpResponse* response) const {
  std::string retry_after = response != nullptr ? response->header("Retry-After") : "";
  std::this_thread::sleep_for(BackoffDelay(retry, client_, retry_after));
}

HttpConnection& RegistryClient::ConnectionFor(const Url& url) {
  for (auto& conn : conns_) {
    if (conn && conn->origin().SameOrigin(url)) return *conn;
  }
  bool registry = shared_->base ? url.SameOrigin(*shared_->base) : url.host + ":" + url.port == host_;
  auto& slot = registry ? conns_[0] : conns_[1];
  Url origin = url;
  origin.target = "/";
  slot = std::make_unique<HttpConnection>(origin, shared_->tls, client_.http);
  return *slot;
}

void RegistryClient::Learn(const HttpResponse& response) {
  if (response.status != 401) return;
  auto challenge = ParseChallenge(response.header("WWW-Authenticate"));
  std::lock_guard lock(shared_->mu);
  if (challenge) shared_->challenge = challenge;
}

// Docker's rule: https first; a registry that is allowed plain http (loopback, or
// --tls-verify=false) and does not speak TLS is then reached over http.
void RegistryClient::EnsureScheme() {
  {
    std::lock_guard lock(shared_->mu);
    if (shared_->base) return;
  }
  for (const char* scheme : {"https", "http"}) {
    Url ping = Url::Parse(std::string(scheme) + "://" + host_ + "/v2/");
    for (int attempt = 1;; ++attempt) {
      try {
        HttpConnection& conn = ConnectionFor(ping);
        HttpResponse res = conn.Send({"GET", ping, {}, {}, client_.request_deadline});
        conn.DiscardBody();
        Learn(res);
        ping.target = "";
        std::lock_guard lock(shared_->mu);
        shared_->base = ping;
        return;
      } catch (const TlsHandshakeError&) {
        conns_[0].reset();
        if (!shared_->allow_http) throw;
        break;
      } catch (const Error& e) {
        if (e.kind() != Error::Kind::kNetwork || attempt >= client_.max_attempts) throw;
        Backoff(attempt, nullptr);
      }
    }
  }
}

std::string RegistryClient::FetchToken(const std::vector<std::string>& scopes) {
  Challenge challenge;
  Url base;
  {
    std::lock_guard lock(shared_->mu);
    challenge = *shared_->challenge;
    base = *shared_->base;
  }
  std::string realm = challenge.param("realm");
  if (realm.empty()) throw SecurityError("registry ", host_, " sent a bearer challenge without a realm");
  Url url = TokenRealm(host_, base, realm);
  if (!challenge.param("service").empty()) {
    url.target = AddQuery(url.target, "service", challenge.param("service"));
  }
  for (const auto& scope : scopes) url.target = AddQuery(url.target, "scope", scope);
  HttpRequest request{"GET", url, {}, {}, client_.request_deadline};
  if (!shared_->creds.empty()) {
    request.headers.emplace_back(
        "Authorization", "Basic " + Base64Encode(shared_->creds.username + ":" + shared_->creds.password));
  }
  HttpConnection conn(url, shared_->tls, client_.http);
  HttpResponse res = conn.Send(request);
  std::string body = conn.ReadBodyString();
  if (res.status != 200) {
    throw SecurityError("token service ", realm, " for registry ", host_, " refused ",
                        shared_->creds.empty() ? "anonymous access" : "user " + shared_->creds.username,
                        ": HTTP ", std::to_string(res.status));
  }
  auto [token, expiry] = ParseTokenResponse(body, realm);
  std::string key;
  for (const auto& scope : scopes) key += scope + " ";
  shared_->tokens.Put(key, token, expiry);
  return token;
}

std::string RegistryClient::Authorization(const std::vector<std::string>& scopes) {
  std::optional<Challenge> challenge;
  {
    std::lock_guard lock(shared_->mu);
    challenge = shared_->challenge;
  }
  if (!challenge) return "";
  if (challenge->scheme == "basic") {
    if (shared_->creds.empty()) return "";
    return "Basic " + Base64Encode(shared_->creds.username + ":" + shared_->creds.password);
  }
  if (challenge->scheme != "bearer") return "";
  std::string key;
  for (const auto& scope : scopes) key += scope + " ";
  if (auto token = shared_->tokens.Get(key)) return "Bearer " + *token;
  return "Bearer " + FetchToken(scopes);
}

Reply RegistryClient::Do(const Call& call) {
  EnsureScheme();
  Url url = shared_->base->Resolve(call.target);
  std::vector<std::string> scopes = call.scopes;
  std::sort(scopes.begin(), scopes.end());
  bool reauthenticated = false;
  int failures = 0;
  int redirects = 0;
  for (;;) {
    HttpRequest request{call.method, url, call.headers, call.body,
                        call.blob_body ? std::chrono::milliseconds(0) : client_.request_deadline};
    bool to_registry = url.SameOrigin(*shared_->base);
    HttpConnection* conn = nullptr;
    HttpResponse res;
    try {
      if (to_registry) {
        std::string auth = Authorization(scopes);
        if (!auth.empty()) request.headers.emplace_back("Authorization", auth);
      }
      conn = &ConnectionFor(url);
      res = conn->Send(request);
    } catch (const Error& e) {
      if (e.kind() != Error::Kind::kNetwork || !call.retry || ++failures >= client_.max_attempts) throw;
      Backoff(failures, nullptr);
      continue;
    }
    if (res.status == 401 && to_registry && !reauthenticated) {
      // First contact with this scope, or the token lapsed: take the challenge and go again.
      conn->DiscardBody();
      Learn(res);
      auto challenge = ParseChallenge(res.header("WWW-Authenticate"));
      if (challenge && challenge->scheme == "bearer" && !challenge->param("scope").empty() &&
          std::find(scopes.begin(), scopes.end(), challenge->param("scope")) == scopes.end()) {
        scopes.push_back(challenge->param("scope"));
        std::sort(scopes.begin(), scopes.end());
      }
      std::string key;
      for (const auto& scope : scopes) key += scope + " ";
      shared_->tokens.Drop(key);
      reauthenticated = true;
      continue;
    }
    if (call.retry && IsRetryableStatus(res.status) && ++failures < client_.max_attempts) {
      conn->DiscardBody();
      Backoff(failures, &res);
      continue;
    }
    bool redirect = res.status == 301 || res.status == 302 || res.status == 303 ||
                    res.status == 307 || res.status == 308;
    if (call.follow_redirects && redirect) {
      conn->DiscardBody();
      url = FollowRedirect(call, url, res, ++redirects);
      continue;
    }
    return Reply{res, conn, url};
  }
}

Url RegistryClient::FollowRedirect(const Call& call, const Url& from, const HttpResponse& res, int hop) const {
  std::string location = res.header("Location");
  std::string what = Concat("registry ", host_, ": ", call.method, " ", call.target);
  if (location.empty()) {
    throw NetworkError(what, ": HTTP ", std::to_string(res.status), " redirect from ", from.str(), " without a Location");
  }
  if (hop > client_.max_redirects) {
    throw NetworkError(what, ": redirect loop, still redirected after ", std::to_string(client_.max_redirects),
                       " hops (HTTP ", std::to_string(res.status), " from ", from.str(), " to ", location, ")");
  }
  try {
    return from.Resolve(location);
  } catch (const Error&) {
    throw NetworkError(what, ": HTTP ", std::to_string(res.status), " redirect from ", from.str(),
                       " to an unusable Location \"", location, "\"");
  }
}

}  // namespace outpost::registry
