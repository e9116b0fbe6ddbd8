// The fetcher against a fake hub on loopback (TLS with a test CA, in the same io_context): the
// spool ends up the bundle file whatever the hub's grants, 503s and a flipped byte on the link.
#include "agent/fetcher.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http.hpp>

#include "agent/test_clock.h"
#include "common/file.h"
#include "link/pki.h"
#include "link/tls.h"
#include "protocol/test_bundle.h"

namespace outpost::agent {
namespace {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using asio::use_awaitable;
using asio::ip::tcp;
using ::testing::Each;
using ::testing::ElementsAre;
using ::testing::Lt;

constexpr int64_t kId = 7;

// Serves one transfer as docs/protocol.md says, with knobs for what links and hubs do.
class FakeHub {
 public:
  FakeHub(asio::io_context& io, const std::filesystem::path& pki, std::string bundle, uint64_t head_bytes)
      : tls_(link::MakeServerContext({pki / "ca.pem", pki / "hub.pem", pki / "hub.key"})),
        acceptor_(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)),
        bundle_(std::move(bundle)),
        head_bytes_(head_bytes) {
    asio::co_spawn(io, Accept(), asio::detached);
  }
  uint16_t port() const { return acceptor_.local_endpoint().port(); }

  uint64_t grant = UINT64_MAX;          // payload bytes per response at most
  int busy = 0;                         // payload requests answered 503 first
  std::optional<uint64_t> flip;         // payload offset whose byte is flipped, once
  std::vector<uint64_t> acks;           // POST ack bodies' `received`
  std::vector<uint64_t> starts;         // payload range starts asked for
  int connections = 0;

 private:
  asio::awaitable<void> Accept() {
    for (;;) {
      boost::system::error_code ec;
      tcp::socket socket = co_await acceptor_.async_accept(asio::redirect_error(use_awaitable, ec));
      if (ec) co_return;
      ++connections;
      asio::co_spawn(acceptor_.get_executor(), Serve(std::move(socket)), asio::detached);
    }
  }

  asio::awaitable<void> Serve(tcp::socket socket) {
    boost::beast::ssl_stream<boost::beast::tcp_stream> s(std::move(socket), tls_);
    boost::system::error_code ec;
    co_await s.async_handshake(asio::ssl::stream_base::server, asio::redirect_error(use_awaitable, ec));
    boost::beast::flat_buffer buffer;
    while (!ec) {
      http::request<http::string_body> request;
      co_await http::async_read(s, buffer, request, asio::redirect_error(use_awaitable, ec));
      if (ec) break;
      http::response<http::string_body> response = Answer(request);
      response.set("Outpost-Protocol", "1");
      response.prepare_payload();
      co_await http::async_write(s, response, asio::redirect_error(use_awaitable, ec));
    }
  }

  http::response<http::string_body> Answer(const http::request<http::string_body>& request) {
    const std::string target(request.target());
    const std::string base = "/v1/transfers/" + std::to_string(kId);
    http::response<http::string_body> r(http::status::ok, 11);
    if (target == base + "/head") {
      r.body() = bundle_.substr(0, head_bytes_);
    } else if (target == base + "/payload") {
      if (busy > 0) {
        --busy;
        r.result(http::status::service_unavailable);
        r.set(http::field::retry_after, "0");
        r.body() = R"({"error":"outside the site's windows"})";
        return r;
      }
      const uint64_t total = bundle_.size() - head_bytes_;
      const uint64_t start = std::stoull(std::string(request[http::field::range]).substr(6));
      starts.push_back(start);
      const uint64_t last = std::min(total - 1, start + std::min(grant, total) - 1);
      r.result(http::status::partial_content);
      r.body() = bundle_.substr(head_bytes_ + start, last - start + 1);
      if (flip && *flip >= start && *flip <= last) {
        r.body()[*flip - start] ^= 0x20;
        flip.reset();
      }
      r.set(http::field::content_range,
            "bytes " + std::to_string(start) + "-" + std::to_string(last) + "/" + std::to_string(total));
    } else if (target == base + "/ack") {
      acks.push_back(std::stoull(request.body().substr(request.body().find(':') + 1)));
      r.result(http::status::no_content);
    } else {
      r.result(http::status::not_found);
      r.body() = R"({"error":"no such transfer"})";
    }
    return r;
  }

  asio::ssl::context tls_;
  tcp::acceptor acceptor_;
  std::string bundle_;
  uint64_t head_bytes_;
};

class FetcherTest : public ::testing::Test {
 protected:
  FetcherTest() {
    link::InitCa(dir_.path() / "pki");
    link::IssueOptions hub;
    hub.hosts = {"127.0.0.1"};
    link::IssueCertificate(dir_.path() / "pki", "hub", hub);
    link::IssueCertificate(dir_.path() / "pki", "oslo", link::IssueOptions());
    std::string layer(5 * protocol::kChunkBytes / 2, '\0');
    for (size_t i = 0; i < layer.size(); ++i) layer[i] = static_cast<char>((i * 7919) >> 8);
    protocol::testing::WriteTestBundle(dir_.path(), dir_.path() / "b.bundle", layer, &key_);
    bundle_ = ReadFileToString(dir_.path() / "b.bundle");
    head_bytes_ = protocol::HeadLength(bundle_, "b").bytes;
    hub_.emplace(io_, dir_.path() / "pki", bundle_, head_bytes_);
    config_.site = "oslo";
    config_.hub = {"127.0.0.1", hub_->port()};
    config_.state_dir = dir_.path() / "state";
    config_.tls = {dir_.path() / "pki/ca.pem", dir_.path() / "pki/oslo.pem", dir_.path() / "pki/oslo.key"};
    config_.stall_timeout = std::chrono::seconds(5);
    std::filesystem::create_directories(config_.state_dir);
  }

  WorkItem Item() const { return WorkItem{kId, Digest::Of(bundle_).str(), head_bytes_, bundle_.size(), ""}; }

  // Runs the fetcher as the runner does (again after HubBusy and link errors) until the
  // transfer leaves `fetching`; returns the messages of the errors it retried.
  std::vector<std::string> FetchUntilDone() {
    std::vector<std::string> retried;
    asio::ssl::context tls = link::MakeClientContext(config_.tls);
    asio::co_spawn(io_, [&]() -> asio::awaitable<void> {
      HubClient client(tls, [&](HubStream& s) { return ConnectToHub(config_, s); }, config_.hub.str(),
                       config_.stall_timeout);
      Fetcher fetcher(config_, client, state_, &key_);
      while (state_.Begin(Item()).state == TransferState::kFetching && retried.size() < 10) {
        const TransferRow row = state_.Begin(Item());
        try {
          co_await fetcher.Fetch(row);
        } catch (const Error& e) {
          retried.push_back(e.what());
          client.Disconnect();
        }
      }
      io_.stop();
    }, asio::detached);
    io_.run();
    return retried;
  }

  TempDir dir_;
  asio::io_context io_;
  protocol::SigningKey key_ = protocol::SigningKey::Generate();
  std::string bundle_;
  uint64_t head_bytes_ = 0;
  std::optional<FakeHub> hub_;
  AgentConfig config_;
  testing::FixedClock clock_;
  AgentState state_{dir_.path() / "agent.db", clock_};
};

TEST_F(FetcherTest, FetchesHeadAndPayloadIntoASpoolThatIsTheBundleFile) {
  EXPECT_THAT(FetchUntilDone(), ElementsAre()) << "";
  EXPECT_EQ(state_.Find(kId)->state, TransferState::kReceived);
  EXPECT_TRUE(ReadFileToString(SpoolPath(config_, kId)) == bundle_);
  EXPECT_EQ(state_.Find(kId)->durable_bytes, bundle_.size());
  EXPECT_THAT(hub_->acks, ElementsAre(bundle_.size() - head_bytes_));
}

TEST_F(FetcherTest, AsksAgainFromWhereAShorterGrantEnded) {
  hub_->grant = 700'000;
  FetchUntilDone();
  EXPECT_TRUE(ReadFileToString(SpoolPath(config_, kId)) == bundle_);
  EXPECT_THAT(hub_->starts, ElementsAre(0, 700'000, 1'400'000, 2'100'000));
  EXPECT_THAT(hub_->acks, ElementsAre(700'000, 1'400'000, 2'100'000, bundle_.size() - head_bytes_));
  EXPECT_EQ(hub_->connections, 1);  // one kept-alive connection
}

TEST_F(FetcherTest, ABusyHubIsRetriedWithoutLosingBytes) {
  hub_->busy = 2;
  std::vector<std::string> retried = FetchUntilDone();
  ASSERT_EQ(retried.size(), 2u);
  EXPECT_THAT(retried[0], ::testing::HasSubstr("503"));
  EXPECT_TRUE(ReadFileToString(SpoolPath(config_, kId)) == bundle_);
}

TEST_F(FetcherTest, AFlippedByteOnTheLinkCostsOnlyItsChunk) {
  hub_->flip = protocol::kChunkBytes + 12345;  // in chunk 1
  EXPECT_THAT(FetchUntilDone(), ElementsAre()) << "";
  EXPECT_TRUE(ReadFileToString(SpoolPath(config_, kId)) == bundle_);
  EXPECT_THAT(hub_->starts, ElementsAre(0, protocol::kChunkBytes));  // chunk 1 asked for again
  EXPECT_THAT(hub_->acks, Each(Lt(bundle_.size())));
}

}  // namespace
}  // namespace outpost::agent
