// TLS 1.3 with mutual authentication between hub and agent.
//
// Both sides trust one CA (outpost pki init). The hub requires a client certificate that CA
// signed and takes the site name from its subject common name; the agent requires the hub's
// certificate to be signed by the same CA and to name the host it dialled (subject alternative
// names from `outpost pki issue --host`).
#pragma once

#include <openssl/ssl.h>

#include <boost/asio/ssl/context.hpp>
#include <filesystem>
#include <string>

namespace outpost::link {

// The three PEM files of one side's `tls:` config key.
struct TlsFiles {
  std::filesystem::path ca;    // the CA certificate both sides trust
  std::filesystem::path cert;  // this side's certificate
  std::filesystem::path key;   // this side's private key
};

// A server context: TLS 1.3 only, peer certificate required and verified against `files.ca`.
// Throws NotFound for a missing file, Security for a key that does not match the certificate
// or a certificate the CA did not sign, InvalidArgument for unreadable PEM; each names the file.
boost::asio::ssl::context MakeServerContext(const TlsFiles& files);

// A client context: TLS 1.3 only, the server verified against `files.ca`; the caller sets the
// host name to check per stream (SetServerName). Same errors as MakeServerContext.
boost::asio::ssl::context MakeClientContext(const TlsFiles& files);

// Sets SNI and the host name the peer certificate must match (a DNS name or an IP address) on
// one client stream's SSL object. Throws Security when OpenSSL refuses.
void SetServerName(SSL* ssl, const std::string& host);

// The subject common name of the verified peer certificate, "" when there is none.
std::string PeerCommonName(SSL* ssl);

// Why the last handshake on `ssl` failed, for logs ("certificate has expired", ...), from the
// verify result; "" when verification passed.
std::string VerifyFailure(SSL* ssl);

}  // namespace outpost::link
