#include "link/tls.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/write.hpp>
#include <thread>

#include "common/file.h"
#include "link/pki.h"
#include "tests/support/matchers.h"

namespace outpost::link {
namespace {

namespace asio = boost::asio;
namespace ssl = boost::asio::ssl;
using asio::ip::tcp;
using ::testing::HasSubstr;
using outpost::testing::ThrowsKind;

TlsFiles FilesOf(const std::filesystem::path& dir, const std::string& name) {
  return {dir / "ca.pem", dir / (name + ".pem"), dir / (name + ".key")};
}

// One loopback connection's handshake as both sides saw it.
struct Outcome {
  bool server_ok = false;
  bool client_ok = false;  // handshake done and the server's first byte read
  std::string peer_common_name;
  std::string server_verify_failure;
  std::string client_verify_failure;
};

Outcome Handshake(ssl::context& server_context, ssl::context& client_context, const std::string& host) {
  asio::io_context io;
  tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::address_v4::loopback(), 0));
  Outcome out;
  std::thread server([&] {
    ssl::stream<tcp::socket> stream(io, server_context);
    acceptor.accept(stream.lowest_layer());
    boost::system::error_code ec;
    stream.handshake(ssl::stream_base::server, ec);
    if (!ec) {
      out.peer_common_name = PeerCommonName(stream.native_handle());
      asio::write(stream, asio::buffer("x", 1), ec);
    }
    out.server_ok = !ec;
    out.server_verify_failure = VerifyFailure(stream.native_handle());
  });
  {
    ssl::stream<tcp::socket> stream(io, client_context);
    SetServerName(stream.native_handle(), host);
    stream.lowest_layer().connect(acceptor.local_endpoint());
    boost::system::error_code ec;
    stream.handshake(ssl::stream_base::client, ec);
    char byte = 0;
    if (!ec) asio::read(stream, asio::buffer(&byte, 1), ec);
    out.client_ok = !ec && byte == 'x';
    out.client_verify_failure = VerifyFailure(stream.native_handle());
  }
  server.join();
  return out;
}

class TlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    InitCa(pki_.path());
    IssueOptions hub;
    hub.hosts = {"localhost", "127.0.0.1"};
    IssueCertificate(pki_.path(), "hub", hub);
    IssueCertificate(pki_.path(), "oslo", {});
  }
  ssl::context Server() { return MakeServerContext(FilesOf(pki_.path(), "hub")); }

  TempDir pki_;
};

TEST_F(TlsTest, MutualHandshakeSucceedsAndNamesTheSite) {
  ssl::context server = Server();
  ssl::context client = MakeClientContext(FilesOf(pki_.path(), "oslo"));
  Outcome out = Handshake(server, client, "localhost");
  EXPECT_TRUE(out.server_ok);
  EXPECT_TRUE(out.client_ok);
  EXPECT_EQ(out.peer_common_name, "oslo");
  EXPECT_EQ(out.client_verify_failure, "");
}

TEST_F(TlsTest, ClientChecksAnIpAddressAgainstTheCertificate) {
  ssl::context server = Server();
  ssl::context client = MakeClientContext(FilesOf(pki_.path(), "oslo"));
  EXPECT_TRUE(Handshake(server, client, "127.0.0.1").client_ok);
  Outcome wrong = Handshake(server, client, "127.0.0.2");
  EXPECT_FALSE(wrong.client_ok);
  EXPECT_EQ(wrong.client_verify_failure, "IP address mismatch");
}

TEST_F(TlsTest, ClientRefusesAHubCertificateForAnotherHost) {
  ssl::context server = Server();
  ssl::context client = MakeClientContext(FilesOf(pki_.path(), "oslo"));
  Outcome out = Handshake(server, client, "hub.example.org");
  EXPECT_FALSE(out.client_ok);
  EXPECT_FALSE(out.server_ok);
  EXPECT_EQ(out.client_verify_failure, "hostname mismatch");
}

TEST_F(TlsTest, ServerRefusesAClientWithoutCertificate) {
  ssl::context server = Server();
  ssl::context client(ssl::context::tls_client);
  client.load_verify_file((pki_.path() / "ca.pem").string());
  client.set_verify_mode(ssl::verify_peer);
  Outcome out = Handshake(server, client, "localhost");
  EXPECT_FALSE(out.server_ok);
  EXPECT_FALSE(out.client_ok);
  EXPECT_EQ(out.peer_common_name, "");
}

TEST_F(TlsTest, ServerRefusesAClientCertificateFromAnotherCa) {
  TempDir other;
  InitCa(other.path());
  IssueCertificate(other.path(), "oslo", {});
  // The client trusts both CAs (so it accepts the hub) but presents the other CA's certificate.
  WriteFileAtomic(other.path() / "both.pem", ReadFileToString(pki_.path() / "ca.pem") + ReadFileToString(other.path() / "ca.pem"));
  ssl::context server = Server();
  ssl::context client = MakeClientContext({other.path() / "both.pem", other.path() / "oslo.pem", other.path() / "oslo.key"});
  Outcome out = Handshake(server, client, "localhost");
  EXPECT_FALSE(out.server_ok);
  EXPECT_FALSE(out.client_ok);
  // OpenSSL sends the other CA along, so the hub sees an untrusted self-signed root.
  EXPECT_EQ(out.server_verify_failure, "self-signed certificate in certificate chain");
}

TEST_F(TlsTest, ServerRefusesAnExpiredClientCertificate) {
  IssueOptions expired;
  expired.days = 1;
  expired.not_before = std::chrono::system_clock::now() - std::chrono::hours(24 * 400);
  IssueCertificate(pki_.path(), "old", expired);
  ssl::context server = Server();
  ssl::context client = MakeClientContext(FilesOf(pki_.path(), "old"));
  Outcome out = Handshake(server, client, "localhost");
  EXPECT_FALSE(out.server_ok);
  EXPECT_FALSE(out.client_ok);
  EXPECT_EQ(out.server_verify_failure, "certificate has expired");
}

TEST_F(TlsTest, ContextRefusesAKeyThatDoesNotMatchItsCertificate) {
  EXPECT_THAT([&] { MakeServerContext({pki_.path() / "ca.pem", pki_.path() / "hub.pem", pki_.path() / "oslo.key"}); },
              ThrowsKind(Error::Kind::kSecurity, HasSubstr("oslo.key")));
}

TEST_F(TlsTest, ContextRefusesACertificateAnotherCaSigned) {
  TempDir other;
  InitCa(other.path());
  EXPECT_THAT([&] { MakeClientContext({other.path() / "ca.pem", pki_.path() / "oslo.pem", pki_.path() / "oslo.key"}); },
              ThrowsKind(Error::Kind::kSecurity, HasSubstr("not a certificate signed by the CA")));
}

TEST_F(TlsTest, ContextNamesAMissingOrMalformedFile) {
  EXPECT_THAT([&] { MakeClientContext(FilesOf(pki_.path(), "bergen")); }, ThrowsKind(Error::Kind::kNotFound, HasSubstr("bergen.pem")));
  EXPECT_THAT([&] { MakeClientContext({pki_.path() / "ca.pem", pki_.path() / "oslo.key", pki_.path() / "oslo.key"}); },
              ThrowsKind(Error::Kind::kInvalidArgument, HasSubstr("oslo.key")));
}

}  // namespace
}  // namespace outpost::link
