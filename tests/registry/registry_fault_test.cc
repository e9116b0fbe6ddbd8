// The registry client against hostile or broken registries, scripted in process
// (fake_http_server.h): endless and trickled bodies, a server that sends one byte and hangs up,
// malformed upload status, redirect loops. Bounds are asserted by counting bytes and requests.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>

#include "common/digest.h"
#include "common/file.h"
#include "common/io.h"
#include "registry/store_factory.h"
#include "storage/copy.h"
#include "tests/registry/fake_http_server.h"
#include "tests/support/matchers.h"

namespace outpost::testing {
namespace {

using registry::ClientOptions;
using registry::RegistryStore;
using registry::RegistryStoreFactory;
using ::testing::HasSubstr;

constexpr const char* kRepo = "f/app";

// Retries without waiting, so a test's time is the fake server's.
ClientOptions Fast() {
  ClientOptions o;
  o.backoff_base = std::chrono::milliseconds(1);
  o.backoff_cap = std::chrono::milliseconds(2);
  o.http.operation = std::chrono::seconds(20);
  return o;
}

std::unique_ptr<RegistryStore> Open(const FakeHttpServer& server, const ClientOptions& client = Fast()) {
  return RegistryStoreFactory({}, client).OpenRepository(server.host(), kRepo);
}

std::string Bytes(size_t n, uint8_t seed) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>((i * 131 + seed) % 251);
  return s;
}

// One image: a config and one layer, as a registry would serve it.
struct TestImage {
  std::string layer = Bytes(50807, 1);
  std::string config;
  std::string manifest;
  Digest layer_digest = Digest::Of(layer);
  TestImage() {
    config = R"({"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[")" +
             layer_digest.str() + R"("]}})";
    manifest = R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{)"
               R"("mediaType":"application/vnd.oci.image.config.v1+json","digest":")" +
               Digest::Of(config).str() + R"(","size":)" + std::to_string(config.size()) +
               R"(},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":")" +
               layer_digest.str() + R"(","size":)" + std::to_string(layer.size()) + "}]}";
  }
  std::string BlobPath(const std::string& bytes) const {
    return std::string("/v2/") + kRepo + "/blobs/" + Digest::Of(bytes).str();
  }
  // Answers the ping, the manifest and the config; false when `req` is none of those.
  bool Serve(const FakeRequest& req, FakeConnection& conn) const {
    if (req.target == "/v2/") return conn.Reply(200, "{}");
    if (req.target == std::string("/v2/") + kRepo + "/manifests/v1") {
      return conn.Reply(200, manifest, {{"Content-Type", "application/vnd.oci.image.manifest.v1+json"}});
    }
    if (req.target == BlobPath(config)) return conn.Reply(200, req.method == "HEAD" ? "" : config);
    return false;
  }
};

// Counts what the store it wraps takes in through WriteBlob: what is written into it.
class CountingStore : public storage::ImageStore {
 public:
  explicit CountingStore(std::unique_ptr<storage::ImageStore> inner) : inner_(std::move(inner)) {}
  std::string Describe() const override { return inner_->Describe(); }
  std::vector<std::string> ListTags() override { return inner_->ListTags(); }
  image::ManifestBlob ReadManifest(const std::string& t) override { return inner_->ReadManifest(t); }
  bool HasBlob(const Digest& d) override { return inner_->HasBlob(d); }
  std::unique_ptr<Reader> OpenBlob(const Digest& d, uint64_t offset) override { return inner_->OpenBlob(d, offset); }
  void WriteBlob(const Digest& d, int64_t size, Reader& content) override {
    HashingReader counting(content);
    try {
      inner_->WriteBlob(d, size, counting);
    } catch (...) {
      written += counting.count();
      throw;
    }
    written += counting.count();
  }
  void WriteManifest(const image::ManifestBlob& m, const std::string& tag) override { inner_->WriteManifest(m, tag); }
  uint64_t written = 0;

 private:
  std::unique_ptr<storage::ImageStore> inner_;
};

TEST(RegistryFaultTest, EndlessBlobBodyWritesNoMoreThanTheBlobSizeIntoTheDestination) {
  TestImage image;
  std::atomic<uint64_t> sent{0};
  constexpr uint64_t kGiveUpAt = 64 << 20;  // stands in for "endless" should the client never stop
  FakeHttpServer server([&](const FakeRequest& req, FakeConnection& conn) {
    if (image.Serve(req, conn)) return true;
    // The layer: its bytes, then more and more, with no length, until the client hangs up.
    conn.Send(StatusLine(200) + "Connection: close\r\n\r\n");
    std::string block = image.layer;
    while (sent < kGiveUpAt && conn.Send(block)) sent += block.size();
    return false;
  });
  TempDir dir;
  CountingStore dst(storage::OpenStore(storage::Reference::Parse("oci:" + (dir.path() / "out").string()), {}, true));
  auto src = Open(server);
  EXPECT_THAT([&] { storage::CopyImage(*src, "v1", dst, "v1", {}); },
              ThrowsKind(Error::Kind::kCorruption, HasSubstr("longer than the 50807 bytes")));
  std::printf("endless layer body: %llu bytes sent by the server, %llu written into the destination\n",
              static_cast<unsigned long long>(sent.load()), static_cast<unsigned long long>(dst.written));
  EXPECT_LE(dst.written, image.config.size() + image.layer.size());
}

// Serves the manifest's headers, then one byte every 5 ms; counts what it sent.
FakeHttpServer::Handler Trickle(const TestImage& image, std::atomic<uint64_t>& sent) {
  return [&image, &sent](const FakeRequest& req, FakeConnection& conn) {
    if (req.target != std::string("/v2/") + kRepo + "/manifests/v1") return image.Serve(req, conn);
    conn.Send(StatusLine(200) + "Content-Type: application/vnd.oci.image.manifest.v1+json\r\nContent-Length: " +
              std::to_string(image.manifest.size()) + "\r\n\r\n");
    for (char c : image.manifest) {
      if (!conn.Send(std::string(1, c))) break;
      ++sent;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return false;
  };
}

TEST(RegistryFaultTest, ManifestTrickledByteByByteFailsTheMinimumRate) {
  TestImage image;
  std::atomic<uint64_t> sent{0};
  FakeHttpServer server(Trickle(image, sent));
  ClientOptions client = Fast();
  client.http.rate_window = std::chrono::milliseconds(100);
  client.http.min_rate_bytes = 200;  // the trickle brings about 20 bytes in a window
  EXPECT_THAT([&] { Open(server, client)->ReadManifest("v1"); },
              ThrowsKind(Error::Kind::kNetwork, HasSubstr("too slow")));
  EXPECT_LT(sent.load(), image.manifest.size());
}

TEST(RegistryFaultTest, ManifestThatNeverFinishesFailsTheRequestDeadline) {
  TestImage image;
  std::atomic<uint64_t> sent{0};
  FakeHttpServer server(Trickle(image, sent));
  ClientOptions client = Fast();
  client.http.min_rate_bytes = 0;  // only the deadline of the whole request applies
  client.request_deadline = std::chrono::milliseconds(300);
  EXPECT_THAT([&] { Open(server, client)->ReadManifest("v1"); },
              ThrowsKind(Error::Kind::kNetwork, HasSubstr("did not finish within 300 ms")));
  EXPECT_LT(sent.load(), image.manifest.size());
}

TEST(RegistryFaultTest, SteadyBlobSlowerThanTheRequestDeadlineStillArrives) {
  std::string blob = Bytes(3000, 2);
  FakeHttpServer server([&](const FakeRequest& req, FakeConnection& conn) {
    if (req.target == "/v2/") return conn.Reply(200, "{}");
    conn.Send(StatusLine(200) + "Content-Length: 3000\r\n\r\n");
    for (size_t i = 0; i < blob.size(); i += 100) {
      if (!conn.Send(blob.substr(i, 100))) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return true;
  });
  ClientOptions client = Fast();
  client.request_deadline = std::chrono::milliseconds(50);  // blobs are held to the rate only
  client.http.rate_window = std::chrono::milliseconds(200);
  client.http.min_rate_bytes = 10;
  Digest digest = Digest::Of(blob);
  storage::VerifyingReader in(Open(server, client)->OpenBlob(digest), digest, 3000, "blob");
  EXPECT_EQ(ReadAll(in), blob);
}

// Serves a `size`-byte blob honouring Range, but sends at most `per_connection` bytes of each
// answer and then hangs up. Counts the blob GETs.
FakeHttpServer::Handler BreakingBlob(const std::string& blob, size_t per_connection, std::atomic<int>& gets) {
  return [&blob, per_connection, &gets](const FakeRequest& req, FakeConnection& conn) {
    if (req.target == "/v2/") return conn.Reply(200, "{}");
    ++gets;
    size_t start = 0;
    std::string range = req.header("range");
    if (!range.empty()) start = std::stoul(range.substr(range.find('=') + 1));
    std::string head = StatusLine(start > 0 ? 206 : 200);
    if (start > 0) {
      head += "Content-Range: bytes " + std::to_string(start) + "-" + std::to_string(blob.size() - 1) + "/" +
              std::to_string(blob.size()) + "\r\n";
    }
    conn.Send(head + "Content-Length: " + std::to_string(blob.size() - start) + "\r\n\r\n");
    conn.Send(blob.substr(start, per_connection));
    return false;
  };
}

TEST(RegistryFaultTest, ServerSendingOneByteAndClosingGetsNoMoreThanMaxAttemptsResumes) {
  std::string blob = Bytes(300, 3);
  std::atomic<int> gets{0};
  FakeHttpServer server(BreakingBlob(blob, 1, gets));
  auto store = Open(server);
  Digest digest = Digest::Of(blob);
  EXPECT_THAT(
      [&] {
        storage::VerifyingReader in(store->OpenBlob(digest), digest, 300, "blob");
        ReadAll(in);
      },
      ThrowsKind(Error::Kind::kNetwork, HasSubstr("broke off")));
  std::printf("one byte per connection: %d GETs, %llu resumes\n", gets.load(),
              static_cast<unsigned long long>(store->stats().download_resumes));
  EXPECT_LE(store->stats().download_resumes, 5u);  // max_attempts 6: the 6th break ends it
  EXPECT_LE(gets.load(), 6);
}

TEST(RegistryFaultTest, BreaksAfterRealProgressKeepResuming) {
  std::string blob = Bytes(10 << 10, 4);
  std::atomic<int> gets{0};
  FakeHttpServer server(BreakingBlob(blob, 2 << 10, gets));
  ClientOptions client = Fast();
  client.max_attempts = 2;
  client.resume_progress_bytes = 1 << 10;  // each connection brings 2 KiB: progress
  auto store = Open(server, client);
  Digest digest = Digest::Of(blob);
  storage::VerifyingReader in(store->OpenBlob(digest), digest, static_cast<int64_t>(blob.size()), "blob");
  EXPECT_EQ(ReadAll(in), blob);
  EXPECT_EQ(store->stats().download_resumes, 4u);
}

TEST(RegistryFaultTest, MalformedUploadRangeIsANetworkErrorNamingIt) {
  FakeHttpServer server([](const FakeRequest& req, FakeConnection& conn) {
    if (req.target == "/v2/") return conn.Reply(200, "{}");
    if (req.method == "HEAD") return conn.Reply(404, "");
    if (req.method == "POST") return conn.Reply(202, "", {{"Location", "/v2/f/app/blobs/uploads/u1"}});
    if (req.method == "PATCH") return conn.Reply(500, "");  // retryable: the client asks where it stands
    if (req.method == "GET") return conn.Reply(204, "", {{"Range", "0-12x"}});
    return conn.Reply(204, "");  // DELETE: the cancelled session
  });
  std::string blob = Bytes(1000, 5);
  StringReader content(blob);
  EXPECT_THAT([&] { Open(server)->WriteBlob(Digest::Of(blob), 1000, content); },
              ThrowsKind(Error::Kind::kNetwork, HasSubstr("malformed Range header \"0-12x\"")));
}

TEST(RegistryFaultTest, RedirectLoopSaysSoNamingTheUrlAndHops) {
  std::atomic<int> gets{0};
  FakeHttpServer server([&](const FakeRequest& req, FakeConnection& conn) {
    if (req.target == "/v2/") return conn.Reply(200, "{}");
    ++gets;
    return conn.Reply(302, "", {{"Location", req.target}});
  });
  Digest digest = Digest::Of("x");
  EXPECT_THAT([&] { Open(server)->OpenBlob(digest); },
              ThrowsKind(Error::Kind::kNetwork, ::testing::AllOf(HasSubstr("redirect loop"), HasSubstr("5 hops"),
                                                                 HasSubstr("/v2/f/app/blobs/" + digest.str()))));
  EXPECT_EQ(gets.load(), 6);  // the request and five redirects followed
}

}  // namespace
}  // namespace outpost::testing
