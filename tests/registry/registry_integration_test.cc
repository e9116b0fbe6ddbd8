// The registry transport against real components: Debian's docker-registry in four set-ups,
// skopeo as the independent judge of digests, and fake registries for faults.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <condition_variable>
#include <fstream>
#include <mutex>
#include <thread>

#include "common/digest.h"
#include "common/file.h"
#include "registry/registry_store.h"
#include "registry/store_factory.h"
#include "storage/copy.h"
#include "tests/registry/skopeo.h"
#include "tests/registry/test_registry.h"
#include "tests/support/matchers.h"

namespace outpost::testing {
namespace {

using registry::AccessOptions;
using registry::ClientOptions;
using registry::RegistryStore;
using registry::RegistryStoreFactory;
using Mode = TestRegistry::Mode;

// A store for `repository` on `host` from a factory of its own (sharing nothing with others).
std::unique_ptr<RegistryStore> OpenRepository(const std::string& host, const std::string& repository,
                                              const AccessOptions& access = {}, const ClientOptions& client = {}) {
  return RegistryStoreFactory(access, client).OpenRepository(host, repository);
}

// The manifest digest skopeo reads at `ref`; a test fails when skopeo cannot read it.
std::string ReadableDigest(const std::string& ref) {
  std::string digest = SkopeoDigest(ref);
  EXPECT_NE(digest, "") << "skopeo cannot read " << ref;
  return digest;
}

void SkopeoPush(const std::string& src, const std::string& dst, const std::string& extra = "") {
  std::string out;
  ASSERT_EQ(Shell("skopeo copy --quiet --dest-tls-verify=false " + extra + " " + src + " " + dst, &out), 0) << out;
}

int Outpost(const std::string& args, std::string* out = nullptr) {
  return Shell(OutpostBinary() + " " + args, out);
}

ClientOptions FastRetries() {
  ClientOptions o;
  o.backoff_base = std::chrono::milliseconds(50);
  o.backoff_cap = std::chrono::milliseconds(1000);
  return o;
}

TEST(RegistryIntegrationTest, SkopeoPushedImageCopiesRegistryToRegistryWithSameDigest) {
  TestRegistry a(Mode::kHttp), b(Mode::kHttp);
  TempDir work;
  MakeImage(work.path() / "img", "v1", "300000,200000");
  SkopeoPush("oci:" + (work.path() / "img").string() + ":v1", "docker://" + a.host() + "/team/app:v1");
  std::string out;
  ASSERT_EQ(Outpost("copy docker://" + a.host() + "/team/app:v1 docker://" + b.host() + "/mirror/app:v1", &out), 0)
      << out;
  EXPECT_EQ(ReadableDigest("docker://" + b.host() + "/mirror/app:v1"),
            ReadableDigest("docker://" + a.host() + "/team/app:v1"));
}

TEST(RegistryIntegrationTest, OciPushedByOutpostPullsByteIdenticalWithSkopeo) {
  TestRegistry a(Mode::kHttp);
  TempDir work;
  fs::path src = work.path() / "img";
  std::string top = MakeImage(src, "v2", "1000000,5,70000");
  std::string out;
  ASSERT_EQ(Outpost("copy oci:" + src.string() + ":v2 docker://" + a.host() + "/x/y:v2", &out), 0) << out;
  EXPECT_EQ(ReadableDigest("docker://" + a.host() + "/x/y:v2"), top);
  fs::path pulled = work.path() / "pulled";
  ASSERT_EQ(Shell("skopeo copy --quiet --src-tls-verify=false docker://" + a.host() + "/x/y:v2 oci:" +
                  pulled.string() + ":v2", &out), 0) << out;
  int blobs = 0;
  for (const auto& entry : fs::directory_iterator(src / "blobs" / "sha256")) {
    fs::path copy = pulled / "blobs" / "sha256" / entry.path().filename();
    ASSERT_TRUE(fs::exists(copy)) << copy;
    EXPECT_EQ(ReadFileToString(copy, 1 << 24), ReadFileToString(entry.path(), 1 << 24));
    ++blobs;
  }
  EXPECT_EQ(blobs, 5);  // 3 layers, config, manifest
}

TEST(RegistryIntegrationTest, MultiArchIndexCopiesWhole) {
  TestRegistry a(Mode::kHttp), b(Mode::kHttp);
  TempDir work;
  MakeImage(work.path() / "img", "multi", "100000", /*index=*/true);
  SkopeoPush("oci:" + (work.path() / "img").string() + ":multi", "docker://" + a.host() + "/m/app:multi", "--all");
  std::string out;
  ASSERT_EQ(Outpost("copy docker://" + a.host() + "/m/app:multi docker://" + b.host() + "/m/app:multi", &out), 0)
      << out;
  EXPECT_EQ(ReadableDigest("docker://" + b.host() + "/m/app:multi"), ReadableDigest("docker://" + a.host() + "/m/app:multi"));
  for (const char* arch : {"amd64", "arm64"}) {
    ASSERT_EQ(Shell(std::string("skopeo copy --quiet --src-tls-verify=false --override-arch ") + arch + " docker://" +
                    b.host() + "/m/app:multi oci:" + (work.path() / arch).string() + ":x", &out), 0) << out;
  }
}

TEST(RegistryIntegrationTest, TlsRegistryNeedsItsCaAndWorksWithCertDir) {
  TestRegistry a(Mode::kTls);
  TempDir work;
  fs::path src = work.path() / "img";
  std::string top = MakeImage(src, "v1", "50000");
  std::string out;
  std::string dst = "docker://" + a.host() + "/tls/app:v1";
  EXPECT_EQ(Outpost("copy oci:" + src.string() + ":v1 " + dst, &out), 8) << out;  // Security
  EXPECT_NE(out.find("not trusted"), std::string::npos) << out;
  ASSERT_EQ(Outpost("copy --cert-dir " + a.cert_dir() + " oci:" + src.string() + ":v1 " + dst, &out), 0)
      << out;
  EXPECT_EQ(ReadableDigest(dst), top);
}

TEST(RegistryIntegrationTest, BasicAuthOverTlsAcceptsCredsAndAuthFile) {
  TestRegistry a(Mode::kBasicTls);
  TempDir work;
  fs::path src = work.path() / "img";
  MakeImage(src, "v1", "50000");
  std::string dst = "docker://" + a.host() + "/private/app:v1";
  std::string out;
  EXPECT_EQ(Outpost("copy --tls-verify=false oci:" + src.string() + ":v1 " + dst, &out), 8) << out;
  EXPECT_NE(out.find("HTTP 401"), std::string::npos) << out;
  ASSERT_EQ(Outpost("copy --cert-dir " + a.cert_dir() + " --creds " + TestRegistry::kUser + ":" +
                    TestRegistry::kPassword + " oci:" + src.string() + ":v1 " + dst, &out), 0) << out;
  std::string authfile = (work.path() / "auth.json").string();
  WriteFileAtomic(authfile, "{\"auths\":{\"" + a.host() + "\":{\"auth\":\"" +
                                registry::Base64Encode(std::string(TestRegistry::kUser) + ":" +
                                                       TestRegistry::kPassword) + "\"}}}");
  AccessOptions options;
  options.cert_dir = a.cert_dir();
  options.authfile = authfile;
  EXPECT_EQ(OpenRepository(a.host(), "private/app", options)->ListTags(), std::vector<std::string>{"v1"});
}

TEST(RegistryIntegrationTest, BearerTokensComeFromTheTokenServerAndAreCached) {
  TestRegistry a(Mode::kToken);
  TempDir work;
  fs::path src = work.path() / "img";
  std::string top = MakeImage(src, "v1", "40000,30000,20000");
  AccessOptions options;
  options.creds = std::string(TestRegistry::kUser) + ":" + TestRegistry::kPassword;
  auto oci = storage::OpenStore(storage::Reference::Parse("oci:" + src.string() + ":v1"), {}, false);
  auto dst = OpenRepository(a.host(), "tok/app", options);
  storage::CopyResult r = storage::CopyImage(*oci, "v1", *dst, "v1", {});
  EXPECT_EQ(r.destination_digest.str(), top);
  EXPECT_EQ(OpenRepository(a.host(), "tok/app", options)->ReadManifest("v1").digest.str(), top);
  std::string log = ReadFileToString(a.token_log());
  size_t tokens = static_cast<size_t>(std::count(log.begin(), log.end(), '\n'));
  EXPECT_GE(tokens, 2u);  // push scope, then pull scope
  EXPECT_LE(tokens, 3u);  // not one per request: 4 blobs + manifest + reads
  AccessOptions wrong = options;
  wrong.creds = "tester:nope";
  auto denied = OpenRepository(a.host(), "tok/app", wrong);
  try {
    denied->ReadManifest("v1");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), Error::Kind::kSecurity) << e.what();
  }
}

TEST(RegistryIntegrationTest, HttpsRegistryWithPlainHttpTokenRealmGetsNoCredentials) {
  TestRegistry a(Mode::kTlsToken);
  TempDir work;
  fs::path src = work.path() / "img";
  MakeImage(src, "v1", "1000");
  std::string out;
  EXPECT_EQ(Outpost("copy --cert-dir " + a.cert_dir() + " --creds " + TestRegistry::kUser + ":" +
                    TestRegistry::kPassword + " oci:" + src.string() + ":v1 docker://" + a.host() + "/tok/app:v1", &out),
            8) << out;  // Security
  EXPECT_NE(out.find("clear text"), std::string::npos) << out;
  EXPECT_FALSE(fs::exists(a.token_requests_log()));  // the token service saw no request at all
}

TEST(RegistryIntegrationTest, MalformedChunkSizeEnvironmentIsAUsageErrorNamingIt) {
  std::string out;
  EXPECT_EQ(Shell("OUTPOST_REGISTRY_CHUNK_BYTES=8MiB " + OutpostBinary() + " inspect docker://127.0.0.1:1/a/b:c", &out),
            2) << out;  // InvalidArgument, not an internal error
  EXPECT_NE(out.find("OUTPOST_REGISTRY_CHUNK_BYTES"), std::string::npos) << out;
}

TEST(RegistryIntegrationTest, TagsArePagedThroughLinkHeaders) {
  TestRegistry a(Mode::kHttp);
  TempDir work;
  fs::path src = work.path() / "img";
  MakeImage(src, "v1", "1000");
  auto oci = storage::OpenStore(storage::Reference::Parse("oci:" + src.string() + ":v1"), {}, false);
  auto dst = OpenRepository(a.host(), "paged/app");
  storage::CopyImage(*oci, "v1", *dst, "v1", {});
  image::ManifestBlob m = dst->ReadManifest("v1");
  for (const char* tag : {"a", "b", "c", "d"}) dst->WriteManifest(m, tag);
  ClientOptions small;
  small.page_size = 2;
  auto paged = OpenRepository(a.host(), "paged/app", {}, small);
  EXPECT_EQ(paged->ListTags(), (std::vector<std::string>{"a", "b", "c", "d", "v1"}));
  EXPECT_EQ(paged->ListRepositories(), std::vector<std::string>{"paged/app"});
  EXPECT_THAT([&] { paged->ReadManifest("missing"); }, ThrowsKind(Error::Kind::kNotFound));
}

TEST(RegistryIntegrationTest, CopyWithinARegistryMountsBlobsInsteadOfUploading) {
  TestRegistry a(Mode::kHttp);
  TempDir work;
  fs::path src = work.path() / "img";
  MakeImage(src, "v1", "200000,100000");
  std::string out;
  ASSERT_EQ(Outpost("copy oci:" + src.string() + ":v1 docker://" + a.host() + "/one/app:v1", &out), 0) << out;
  RegistryStoreFactory stores({});  // one factory: it remembers where the source's blobs are
  auto from = stores.OpenRepository(a.host(), "one/app");
  auto to = stores.OpenRepository(a.host(), "two/app");
  storage::CopyImage(*from, "v1", *to, "v1", {});
  EXPECT_EQ(to->stats().blobs_mounted, 3u);  // config and both layers
  EXPECT_EQ(to->stats().upload_bytes_sent, 0u);
  EXPECT_EQ(to->ReadManifest("v1").digest, from->ReadManifest("v1").digest);
  // Stores from separate factories share nothing: no mount, the blobs are uploaded.
  auto elsewhere = OpenRepository(a.host(), "three/app");
  storage::CopyImage(*OpenRepository(a.host(), "one/app"), "v1", *elsewhere, "v1", {});
  EXPECT_EQ(elsewhere->stats().blobs_mounted, 0u);
  EXPECT_GT(elsewhere->stats().upload_bytes_sent, 0u);
}

// Hands out a blob's bytes but stops at `gate` until the test opens it.
class GatedReader : public Reader {
 public:
  GatedReader(Reader& inner, uint64_t gate) : inner_(inner), gate_(gate) {}
  size_t Read(uint8_t* buf, size_t n) override {
    if (pos_ >= gate_) {
      std::unique_lock lock(mu_);
      reached_ = true;
      cv_.notify_all();
      cv_.wait(lock, [this] { return open_; });
    } else {
      n = static_cast<size_t>(std::min<uint64_t>(n, gate_ - pos_));
    }
    size_t got = inner_.Read(buf, n);
    pos_ += got;
    return got;
  }
  void WaitUntilReached() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [this] { return reached_; });
  }
  void Open() {
    std::lock_guard lock(mu_);
    open_ = true;
    cv_.notify_all();
  }

 private:
  Reader& inner_;
  uint64_t gate_;
  uint64_t pos_ = 0;
  std::mutex mu_;
  std::condition_variable cv_;
  bool reached_ = false;
  bool open_ = false;
};

TEST(RegistryIntegrationTest, KilledRegistryMidUploadResumesReSendingAtMostOneChunk) {
  TestRegistry a(Mode::kHttp);
  TempDir work;
  constexpr size_t kBlob = 50 << 20;
  constexpr size_t kChunk = 4 << 20;
  std::string blob_path = (work.path() / "blob").string();
  ASSERT_EQ(Shell("head -c " + std::to_string(kBlob) + " /dev/urandom > " + blob_path), 0);
  Digest digest;
  {
    FileReader in(blob_path);
    HashingReader h(in);
    NullWriter sink;
    Copy(h, sink);
    digest = h.Finish();
  }
  ClientOptions options = FastRetries();
  options.chunk_size = kChunk;
  auto opened = OpenRepository(a.host(), "big/app", {}, options);
  RegistryStore& store = *opened;
  FileReader file(blob_path);
  GatedReader gated(file, 5 * kChunk + 1000);  // stop mid-blob, with 5 chunks acknowledged
  std::string failure;
  std::thread upload([&] {
    try {
      store.WriteBlob(digest, kBlob, gated);
    } catch (const Error& e) {
      failure = e.what();
    }
  });
  gated.WaitUntilReached();
  uint64_t sent_before_kill = store.stats().upload_bytes_sent;
  a.Kill();
  gated.Open();  // the next PATCH meets a dead registry
  std::this_thread::sleep_for(std::chrono::milliseconds(400));
  a.Start();
  upload.join();
  ASSERT_EQ(failure, "");
  const auto& stats = store.stats();
  std::printf("upload: %llu bytes sent for a %zu byte blob (%llu before the kill), %llu resumes\n",
              static_cast<unsigned long long>(stats.upload_bytes_sent), kBlob,
              static_cast<unsigned long long>(sent_before_kill), static_cast<unsigned long long>(stats.upload_resumes));
  EXPECT_EQ(sent_before_kill, 5 * kChunk);
  EXPECT_GE(stats.upload_resumes, 1u);
  EXPECT_LE(stats.upload_bytes_sent, kBlob + kChunk);  // re-sent after the restart: <= one chunk
  EXPECT_TRUE(OpenRepository(a.host(), "big/app")->HasBlob(digest));
}

class FakeRegistry {
 public:
  FakeRegistry(const fs::path& oci_dir, const std::string& mode) : port_(FreePort()) {
    pid_ = Spawn({"python3", Script("fake_registry.py"), std::to_string(port_), oci_dir.string(), mode},
                 (oci_dir.parent_path() / ("fake-" + mode + ".log")).string());
    if (!WaitForPort(port_, 20)) throw IOError("fake registry did not start");
  }
  ~FakeRegistry() {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
  std::string host() const { return "127.0.0.1:" + std::to_string(port_); }

 private:
  int port_;
  pid_t pid_;
};

TEST(RegistryIntegrationTest, WrongDigestFromSourceFailsAndWritesNothing) {
  TestRegistry b(Mode::kHttp);
  TempDir work;
  MakeImage(work.path() / "img", "v1", "300000");
  FakeRegistry fake(work.path() / "img", "wrong-digest");
  std::string out;
  fs::path oci_out = work.path() / "out";
  EXPECT_EQ(Outpost("copy docker://" + fake.host() + "/f/app:v1 oci:" + oci_out.string() + ":v1", &out), 4) << out;
  EXPECT_NE(out.find("sha256:"), std::string::npos) << out;
  EXPECT_TRUE(!fs::exists(oci_out / "index.json") ||
              ReadFileToString(oci_out / "index.json").find("v1") == std::string::npos);
  EXPECT_EQ(Outpost("copy docker://" + fake.host() + "/f/app:v1 docker://" + b.host() + "/f/app:v1", &out), 4) << out;
  EXPECT_THAT([&] { OpenRepository(b.host(), "f/app")->ListTags(); }, ThrowsKind(Error::Kind::kNotFound));  // the repository does not even exist
}

TEST(RegistryIntegrationTest, TruncatedBodiesFailClearlyAndWriteNothing) {
  TestRegistry b(Mode::kHttp);
  TempDir work;
  MakeImage(work.path() / "img", "v1", "300000");
  FakeRegistry fake(work.path() / "img", "truncated");
  std::string out;
  EXPECT_NE(Outpost("copy docker://" + fake.host() + "/f/app:v1 docker://" + b.host() + "/f/app:v1", &out), 0)
      << out;
  EXPECT_NE(out.find("broke off"), std::string::npos) << out;
  EXPECT_THAT([&] { OpenRepository(b.host(), "f/app")->ListTags(); }, ThrowsKind(Error::Kind::kNotFound));
}

TEST(RegistryIntegrationTest, InterruptedDownloadResumesWithRange) {
  TempDir work;
  std::string top = MakeImage(work.path() / "img", "v1", "300000");
  FakeRegistry fake(work.path() / "img", "truncate-once");
  auto src = OpenRepository(fake.host(), "f/app", {}, FastRetries());
  auto out = storage::OpenStore(storage::Reference::Parse("oci:" + (work.path() / "out").string() + ":v1"), {}, true);
  storage::CopyResult r = storage::CopyImage(*src, "v1", *out, "v1", {});
  EXPECT_EQ(r.destination_digest.str(), top);
  EXPECT_EQ(src->stats().download_resumes, 1u);
}

// A 200 MB blob flows registry to registry through a bounded buffer.
TEST(RegistryIntegrationTest, LargeBlobCopiesRegistryToRegistryInBoundedMemory) {
  TestRegistry a(Mode::kHttp), b(Mode::kHttp);
  TempDir work;
  const char* env = std::getenv("OUTPOST_REGISTRY_BIG_BLOB_BYTES");
  std::string size = env != nullptr ? env : std::to_string(200 << 20);
  MakeImage(work.path() / "img", "v1", size);
  std::string out;
  ASSERT_EQ(Outpost("copy oci:" + (work.path() / "img").string() + ":v1 docker://" + a.host() + "/big/app:v1", &out),
            0) << out;
  ASSERT_EQ(Shell("/usr/bin/time -v " + OutpostBinary() + " copy docker://" + a.host() + "/big/app:v1 docker://" +
                  b.host() + "/big/app:v1", &out), 0) << out;
  size_t at = out.find("Maximum resident set size (kbytes): ");
  ASSERT_NE(at, std::string::npos) << out;
  long kbytes = std::stol(out.substr(at + 36));
  std::printf("peak RSS copying a %s byte layer registry to registry: %ld KiB\n", size.c_str(), kbytes);
  EXPECT_LT(kbytes, 64 * 1024);
  EXPECT_EQ(ReadableDigest("docker://" + b.host() + "/big/app:v1"), ReadableDigest("docker://" + a.host() + "/big/app:v1"));
}

}  // namespace
}  // namespace outpost::testing
