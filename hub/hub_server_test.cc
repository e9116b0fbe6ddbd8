// The hub's server on loopback: a real TLS listener on an ephemeral port, certificates from
// link's CA, and a synchronous Beast client in the test playing a site.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <nlohmann/json.hpp>
#include <thread>

#include "common/file.h"
#include "hub/hub.h"
#include "hub/hub_routes.h"
#include "hub/hub_state.h"
#include "hub/test_support.h"
#include "link/http.h"
#include "link/pki.h"
#include "link/tls.h"
#include "protocol/test_bundle.h"
#include "sync/image_signature.h"
#include "sync/test_images.h"

namespace outpost::hub {
namespace {

using testing::Site;

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using ::testing::HasSubstr;
using nlohmann::json;

struct Response {
  unsigned status = 0;
  std::string body;
  std::map<std::string, std::string> headers;
};

// A site's client: one TLS connection per request, as simple as a test can make it.
class SiteClient {
 public:
  SiteClient(const std::filesystem::path& pki, const std::string& site, uint16_t port)
      : tls_(link::MakeClientContext({pki / "ca.pem", pki / (site + ".pem"), pki / (site + ".key")})), port_(port) {}

  Response Send(http::request<http::string_body> req) {
    beast::ssl_stream<beast::tcp_stream> stream(ioc_, tls_);
    link::SetServerName(stream.native_handle(), "127.0.0.1");
    beast::get_lowest_layer(stream).connect(asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), port_));
    stream.handshake(asio::ssl::stream_base::client);
    req.set(http::field::host, "127.0.0.1");
    req.prepare_payload();
    http::write(stream, req);
    beast::flat_buffer buffer;
    http::response_parser<http::string_body> parser;
    parser.body_limit(64 << 20);
    http::read(stream, buffer, parser);
    Response r;
    r.status = parser.get().result_int();
    r.body = parser.get().body();
    for (const auto& field : parser.get()) r.headers[std::string(field.name_string())] = std::string(field.value());
    beast::error_code ignored;
    beast::get_lowest_layer(stream).socket().close(ignored);
    return r;
  }

  Response Get(const std::string& target, std::map<std::string, std::string> headers = {{"Outpost-Protocol", "1"}}) {
    http::request<http::string_body> req{http::verb::get, target, 11};
    for (const auto& [k, v] : headers) req.set(k, v);
    return Send(std::move(req));
  }

  Response Post(const std::string& target, const std::string& body, http::verb verb = http::verb::post) {
    http::request<http::string_body> req{verb, target, 11};
    req.set("Outpost-Protocol", "1");
    req.set(http::field::content_type, "application/json");
    req.body() = body;
    return Send(std::move(req));
  }

 private:
  asio::io_context ioc_;
  asio::ssl::context tls_;
  uint16_t port_;
};

class HubServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    pki_ = dir_.path() / "pki";
    link::InitCa(pki_);
    link::IssueOptions hub;
    hub.hosts = {"127.0.0.1"};
    link::IssueCertificate(pki_, "hub", hub);
    for (const char* name : {"oslo", "bergen", "molde", "stranger"}) link::IssueCertificate(pki_, name, {});
    layer_ = std::string(3 << 20, '\0');
    for (size_t i = 0; i < layer_.size(); ++i) layer_[i] = static_cast<char>((i * 7919) >> 5);
    protocol::testing::WriteTestBundle(dir_.path(), dir_.path() / "u.bundle", layer_, nullptr);
    bundle_ = ReadFileToString(dir_.path() / "u.bundle");

    config_.file = "hub.yaml";
    config_.listen_host = "127.0.0.1";
    config_.listen_port = 0;
    config_.state_dir = dir_.path() / "state";
    config_.tls = {pki_ / "ca.pem", pki_ / "hub.pem", pki_ / "hub.key"};
    SiteConfig closed = Site("bergen");
    closed.windows.push_back(link::Window{0x7f, 10 * 60, 11 * 60, std::nullopt});  // 10:00-11:00 UTC daily
    SiteConfig paced = Site("molde");
    paced.rate = 100'000;
    config_.sites = {Site("oslo"), closed, paced};
    config_.sites[0].subscriptions.push_back(Subscription{{"test:*"}, 0, UINT64_MAX, {}, 3});
    oslo_id_ = EnqueueBundle(config_, {"oslo", dir_.path() / "u.bundle", 0, "test:2.0.0"}, clock_);
    bergen_id_ = EnqueueBundle(config_, {"bergen", dir_.path() / "u.bundle", 0, std::nullopt}, clock_);
    molde_id_ = EnqueueBundle(config_, {"molde", dir_.path() / "u.bundle", 0, std::nullopt}, clock_);
    daemon_ = std::make_unique<HubDaemon>(config_, clock_);
    runner_ = std::thread([this] { daemon_->Run(); });
  }

  void TearDown() override {
    daemon_->Stop();
    runner_.join();
  }

  std::string Path(int64_t id, const std::string& what) { return "/v1/transfers/" + std::to_string(id) + "/" + what; }
  uint64_t head_bytes() { return HubState(config_.state_dir, clock_).Find(oslo_id_)->head_bytes; }

  TempDir dir_;
  std::filesystem::path pki_;
  std::string layer_, bundle_;
  HubConfig config_;
  testing::FixedClock clock_{link::ParseUtcTime("2026-12-07T08:59:50Z")};
  int64_t oslo_id_ = 0, bergen_id_ = 0, molde_id_ = 0;
  std::unique_ptr<HubDaemon> daemon_;
  std::thread runner_;
};

TEST_F(HubServerTest, TheEphemeralPortIsWrittenToTheStateDir) {
  EXPECT_EQ(ReadFileToString(config_.port_file()), std::to_string(daemon_->port()) + "\n");
}

TEST_F(HubServerTest, TheWorkListHoldsOnlyTheSitesOwnTransfers) {
  Response r = SiteClient(pki_, "oslo", daemon_->port()).Get("/v1/work");
  ASSERT_EQ(r.status, 200u) << r.body;
  EXPECT_EQ(r.headers["Outpost-Protocol"], "1");
  json work = json::parse(r.body);
  EXPECT_EQ(work["site"], "oslo");
  ASSERT_EQ(work["transfers"].size(), 1u);
  EXPECT_EQ(work["transfers"][0]["id"], oslo_id_);
  EXPECT_EQ(work["transfers"][0]["as"], "test:2.0.0");
  EXPECT_EQ(work["transfers"][0]["keep"], 3);  // its subscription's
  EXPECT_EQ(work["transfers"][0]["file_bytes"], bundle_.size());
  EXPECT_EQ(work["transfers"][0]["bundle"], Digest::Of(bundle_).str());
  EXPECT_EQ(work["window"]["open"], true);
  EXPECT_TRUE(work["window"]["rate"].is_null());
}

TEST_F(HubServerTest, TheHeadIsTheBundlesFirstHeadBytes) {
  Response r = SiteClient(pki_, "oslo", daemon_->port()).Get(Path(oslo_id_, "head"));
  ASSERT_EQ(r.status, 200u) << r.body;
  EXPECT_EQ(r.body, bundle_.substr(0, head_bytes()));
  EXPECT_EQ(HubState(config_.state_dir, clock_).Find(oslo_id_)->state, TransferState::kSending);
}

TEST_F(HubServerTest, PayloadRangesAreExact) {
  SiteClient oslo(pki_, "oslo", daemon_->port());
  uint64_t head = head_bytes(), payload = bundle_.size() - head;
  Response r = oslo.Get(Path(oslo_id_, "payload"), {{"Outpost-Protocol", "1"}, {"Range", "bytes=100-1099"}});
  ASSERT_EQ(r.status, 206u) << r.body;
  EXPECT_EQ(r.headers["Content-Range"], "bytes 100-1099/" + std::to_string(payload));
  EXPECT_EQ(r.body, bundle_.substr(head + 100, 1000));
  Response rest = oslo.Get(Path(oslo_id_, "payload"), {{"Outpost-Protocol", "1"}, {"Range", "bytes=2000000-"}});
  ASSERT_EQ(rest.status, 206u);
  EXPECT_EQ(rest.body, bundle_.substr(head + 2000000));
  // The count is stored after the last byte is written: the client may read them first.
  uint64_t sent = 0;
  for (int i = 0; i < 100 && sent != 1000 + payload - 2000000; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    sent = HubState(config_.state_dir, clock_).Find(oslo_id_)->bytes_sent;
  }
  EXPECT_EQ(sent, 1000 + payload - 2000000);
}

TEST_F(HubServerTest, ARangeAtOrPastTheEndIs416AndNoRangeIs400) {
  SiteClient oslo(pki_, "oslo", daemon_->port());
  uint64_t payload = bundle_.size() - head_bytes();
  Response past = oslo.Get(Path(oslo_id_, "payload"), {{"Outpost-Protocol", "1"}, {"Range", "bytes=" + std::to_string(payload) + "-"}});
  EXPECT_EQ(past.status, 416u);
  EXPECT_EQ(oslo.Get(Path(oslo_id_, "payload")).status, 400u);
}

TEST_F(HubServerTest, AnotherSitesTransferIsNotFound) {
  SiteClient oslo(pki_, "oslo", daemon_->port());
  EXPECT_EQ(oslo.Get(Path(bergen_id_, "head")).status, 404u);
  EXPECT_EQ(oslo.Get(Path(bergen_id_, "payload"), {{"Outpost-Protocol", "1"}, {"Range", "bytes=0-9"}}).status, 404u);
  EXPECT_EQ(oslo.Get(Path(999, "head")).status, 404u);
}

TEST_F(HubServerTest, ARequestWithoutTheProtocolHeaderIs400) {
  Response r = SiteClient(pki_, "oslo", daemon_->port()).Get("/v1/work", {});
  EXPECT_EQ(r.status, 400u);
  EXPECT_THAT(r.body, HasSubstr("unsupported protocol version none; this hub speaks 1"));
  EXPECT_EQ(r.headers["Content-Type"], "application/json");
}

TEST_F(HubServerTest, AnOversizedHeaderBlockIs431) {
  Response r = SiteClient(pki_, "oslo", daemon_->port()).Get("/v1/work", {{"Outpost-Protocol", "1"}, {"X-Padding", std::string(9000, 'a')}});
  EXPECT_EQ(r.status, 431u);
}

TEST_F(HubServerTest, AnOversizedBodyIs413) {
  Response r = SiteClient(pki_, "oslo", daemon_->port()).Post(Path(oslo_id_, "ack"), std::string(100000, 'a'));
  EXPECT_EQ(r.status, 413u);
}

TEST_F(HubServerTest, ACertificateOfNoConfiguredSiteIsForbidden) {
  EXPECT_EQ(SiteClient(pki_, "stranger", daemon_->port()).Get("/v1/work").status, 403u);
}

TEST_F(HubServerTest, OutsideEveryWindowHeadAndPayloadAre503WithRetryAfter) {
  SiteClient bergen(pki_, "bergen", daemon_->port());
  Response head = bergen.Get(Path(bergen_id_, "head"));
  EXPECT_EQ(head.status, 503u);
  EXPECT_EQ(head.headers["Retry-After"], "3610");  // 08:59:50 -> 10:00:00
  EXPECT_EQ(bergen.Get(Path(bergen_id_, "payload"), {{"Outpost-Protocol", "1"}, {"Range", "bytes=0-"}}).status, 503u);
  EXPECT_EQ(HubState(config_.state_dir, clock_).Find(bergen_id_)->bytes_sent, 0u);
  json work = json::parse(bergen.Get("/v1/work").body);
  EXPECT_FALSE(work["transfers"][0].contains("keep"));  // no `as`, no subscription: no keep
  EXPECT_EQ(work["window"]["open"], false);
  EXPECT_EQ(work["window"]["next_change"], "2026-12-07T10:00:00Z");
}

TEST_F(HubServerTest, PayloadIsPacedAtTheSitesRateAfterOneSecondOfBurst) {
  SiteClient molde(pki_, "molde", daemon_->port());
  auto start = std::chrono::steady_clock::now();
  Response r = molde.Get(Path(molde_id_, "payload"), {{"Outpost-Protocol", "1"}, {"Range", "bytes=0-299999"}});
  auto took = std::chrono::steady_clock::now() - start;
  ASSERT_EQ(r.status, 206u);
  EXPECT_EQ(r.body.size(), 300'000u);
  // 100 kB/s with a burst of 100 kB: the last of 300 kB leaves after about 2 s.
  EXPECT_GE(took, std::chrono::milliseconds(1800));
  EXPECT_LT(took, std::chrono::milliseconds(4000));
}

TEST_F(HubServerTest, TheWorkListShowsTheSitesRateAndAnOpenWindow) {
  json work = json::parse(SiteClient(pki_, "molde", daemon_->port()).Get("/v1/work").body);
  EXPECT_EQ(work["window"]["open"], true);
  EXPECT_EQ(work["window"]["rate"], 100'000);
}

TEST_F(HubServerTest, AcksAndResultsAreRecorded) {
  SiteClient oslo(pki_, "oslo", daemon_->port());
  EXPECT_EQ(oslo.Post(Path(oslo_id_, "ack"), R"({"received": 4096})").status, 204u);
  EXPECT_EQ(oslo.Post(Path(oslo_id_, "ack"), R"({"received": 10})").status, 204u);
  EXPECT_EQ(oslo.Post(Path(oslo_id_, "ack"), R"({"received": "x"})").status, 400u);
  EXPECT_EQ(HubState(config_.state_dir, clock_).Find(oslo_id_)->bytes_acked, 4096u);
  std::string applied = R"({"state": "applied", "manifest": "sha256:)" + std::string(64, 'c') + R"(", "tag": "test:2.0.0"})";
  EXPECT_EQ(oslo.Post(Path(oslo_id_, "result"), R"({"state": 7})").status, 400u);
  EXPECT_EQ(oslo.Post(Path(oslo_id_, "result"), applied).status, 204u);
  EXPECT_EQ(oslo.Post(Path(oslo_id_, "result"), applied).status, 204u);
  Transfer t = *HubState(config_.state_dir, clock_).Find(oslo_id_);
  EXPECT_EQ(t.state, TransferState::kApplied);
  EXPECT_EQ(t.manifest, "sha256:" + std::string(64, 'c'));
  EXPECT_TRUE(json::parse(oslo.Get("/v1/work").body)["transfers"].empty());
}

TEST_F(HubServerTest, ALongPollReturnsWhenATransferIsQueued) {
  SiteClient oslo(pki_, "oslo", daemon_->port());
  std::string finished = R"({"state": "failed", "error": "test"})";
  ASSERT_EQ(oslo.Post(Path(oslo_id_, "result"), finished).status, 204u);
  std::thread enqueue([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));
    EnqueueBundle(config_, {"oslo", dir_.path() / "u.bundle", 0, std::nullopt}, clock_);
  });
  auto start = std::chrono::steady_clock::now();
  Response r = oslo.Get("/v1/work?wait=30");
  enqueue.join();
  EXPECT_EQ(json::parse(r.body)["transfers"].size(), 1u);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
}

TEST_F(HubServerTest, StopEndsALongPollAtOnce) {
  SiteClient oslo(pki_, "oslo", daemon_->port());
  std::string finished = R"({"state": "failed", "error": "test"})";
  ASSERT_EQ(oslo.Post(Path(oslo_id_, "result"), finished).status, 204u);
  std::thread poll([&] { EXPECT_THROW(oslo.Get("/v1/work?wait=60"), boost::system::system_error); });
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  auto start = std::chrono::steady_clock::now();
  daemon_->Stop();
  runner_.join();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
  poll.join();
  runner_ = std::thread([] {});
}

// An inventory of `blobs` distinct blob digests: about 74 bytes per blob.
std::string InventoryBody(size_t blobs) {
  json body = {{"images", {{"test:1.0.0", "sha256:" + std::string(64, '1')}}}, {"blobs", json::array()}};
  for (size_t i = 0; i < blobs; ++i) {
    std::string hex = std::to_string(i);
    body["blobs"].push_back("sha256:" + std::string(64 - hex.size(), '0') + hex);
  }
  return body.dump();
}

TEST_F(HubServerTest, AnInventoryIsRecordedAndMayBeLargerThanOtherBodies) {
  SiteClient oslo(pki_, "oslo", daemon_->port());
  std::string body = InventoryBody(3000);
  ASSERT_GT(body.size(), size_t{link::kMaxBodyBytes});
  EXPECT_EQ(oslo.Post("/v1/inventory", body, http::verb::put).status, 204u);
  std::optional<SiteInventory> got = HubState(config_.state_dir, clock_).Inventory("oslo");
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->images.at("test:1.0.0"), "sha256:" + std::string(64, '1'));
  EXPECT_EQ(got->blobs.size(), 3000u);
  EXPECT_FALSE(HubState(config_.state_dir, clock_).Inventory("bergen").has_value());
}

TEST(BodyLimit, OnlyTheInventoryAndSignaturesMayExceed64KiB) {
  EXPECT_EQ(BodyLimit("/v1/inventory"), link::kMaxInventoryBytes);
  EXPECT_EQ(BodyLimit("/v1/signatures/sha256:01"), link::kMaxSignatureBytes);
  EXPECT_EQ(BodyLimit("/v1/inventory?x=1"), link::kMaxInventoryBytes);
  EXPECT_EQ(BodyLimit("/v1/transfers/1/ack"), link::kMaxBodyBytes);
  EXPECT_EQ(BodyLimit("/v1/inventoryx"), link::kMaxBodyBytes);
}

TEST_F(HubServerTest, ABodyOver64KiBElsewhereIs413AndAMalformedInventory400) {
  std::string ack = R"({"received": 1, "pad": ")" + std::string(70 * 1024, 'x') + "\"}";
  EXPECT_EQ(SiteClient(pki_, "oslo", daemon_->port()).Post(Path(oslo_id_, "ack"), ack).status, 413u);
  EXPECT_EQ(SiteClient(pki_, "oslo", daemon_->port()).Post("/v1/inventory", R"({"images": []})", http::verb::put).status, 400u);
}

// The site's image test:1.0.0 (an OCI layout of its own), the bytes of its signature file, and
// the inventory of an agent that sends signatures naming it with its blobs.
struct SiteImage {
  Digest manifest;
  std::string signature;
  SiteInventory inventory;
};
SiteImage MakeSiteImage(const std::filesystem::path& dir) {
  const std::string ref = "oci:" + (dir / "site").string() + ":test:1.0.0";
  SiteImage image;
  image.manifest = outpost::testing::WriteImage(ref, {outpost::testing::TestLayer({{"lib.so", std::string(100000, 'x')}}, true)});
  sync::ImageBlockSignature sig = sync::ComputeImageBlockSignature(storage::Reference::Parse(ref), nullptr, dir);
  sig.Save(dir / "site.sig");
  image.signature = ReadFileToString(dir / "site.sig");
  image.inventory.images = {{"test:1.0.0", image.manifest.str()}};
  for (const sync::LayerBlockSignature& l : sig.layers) image.inventory.blobs.insert(l.digest.str());
  image.inventory.signatures = sync::kImageSignatureVersion;
  return image;
}

TEST_F(HubServerTest, AWantedSignatureIsInTheWorkListAndStoredOnceItParses) {
  SiteImage image = MakeSiteImage(dir_.path());
  {
    HubState state(config_.state_dir, clock_);
    state.SetInventory("oslo", image.inventory);
    state.RequestSignature("oslo", "test:1.0.0", image.manifest.str());
  }
  SiteClient oslo(pki_, "oslo", daemon_->port());
  json work = json::parse(oslo.Get("/v1/work").body);
  ASSERT_EQ(work["signatures"].size(), 1u) << work;
  EXPECT_EQ(work["signatures"][0]["image"], "test:1.0.0");
  EXPECT_EQ(work["signatures"][0]["manifest"], image.manifest.str());
  EXPECT_TRUE(json::parse(SiteClient(pki_, "bergen", daemon_->port()).Get("/v1/work").body)["signatures"].empty());

  const std::string target = "/v1/signatures/" + image.manifest.str();
  EXPECT_EQ(oslo.Post(target, image.signature, http::verb::put).status, 204u);
  std::optional<SignatureRow> got = HubState(config_.state_dir, clock_).Signature("oslo", image.manifest.str());
  ASSERT_TRUE(got && got->path);
  EXPECT_EQ(ReadFileToString(*got->path), image.signature);
  EXPECT_EQ(got->bytes, image.signature.size());
  EXPECT_TRUE(json::parse(oslo.Get("/v1/work").body)["signatures"].empty());
  EXPECT_EQ(oslo.Post(target, "again", http::verb::put).status, 204u) << "the first signature stands";
  EXPECT_EQ(ReadFileToString(*got->path), image.signature);
}

TEST_F(HubServerTest, AGarbageTamperedOrUnaskedSignatureIsRefusedClearlyAndChangesNothing) {
  SiteImage image = MakeSiteImage(dir_.path());
  {
    HubState state(config_.state_dir, clock_);
    state.SetInventory("oslo", image.inventory);
    state.RequestSignature("oslo", "test:1.0.0", image.manifest.str());
  }
  SiteClient oslo(pki_, "oslo", daemon_->port());
  const std::string target = "/v1/signatures/" + image.manifest.str();
  Response garbage = oslo.Post(target, "not a signature at all", http::verb::put);
  EXPECT_EQ(garbage.status, 400u);
  EXPECT_THAT(garbage.body, HasSubstr("not an outpost image signature"));
  EXPECT_THAT(garbage.body, HasSubstr("send the file `outpost signature` writes"));
  EXPECT_EQ(oslo.Post(target, image.signature.substr(0, image.signature.size() / 2), http::verb::put).status, 400u);

  // A signature of some other image: its layer is not one the site reported holding.
  std::string tampered = image.signature;
  const std::string layer = *image.inventory.blobs.begin();
  size_t at = tampered.find(layer);
  ASSERT_NE(at, std::string::npos);
  tampered.replace(at + 7, 4, "0000");
  Response other = oslo.Post(target, tampered, http::verb::put);
  EXPECT_EQ(other.status, 400u);
  EXPECT_THAT(other.body, HasSubstr("is not in the site's inventory"));

  EXPECT_EQ(oslo.Post("/v1/signatures/sha256:" + std::string(64, 'f'), image.signature, http::verb::put).status, 404u);
  EXPECT_EQ(SiteClient(pki_, "bergen", daemon_->port()).Post(target, image.signature, http::verb::put).status, 404u);
  EXPECT_EQ(oslo.Post("/v1/signatures/latest", image.signature, http::verb::put).status, 400u);

  HubState state(config_.state_dir, clock_);
  EXPECT_FALSE(state.Signature("oslo", image.manifest.str())->path.has_value());
  EXPECT_EQ(state.WantedSignatures("oslo").size(), 1u) << "a refused upload closed the request";
  EXPECT_TRUE(std::filesystem::is_empty(config_.state_dir / "signatures" / "oslo"));
}

}  // namespace
}  // namespace outpost::hub
