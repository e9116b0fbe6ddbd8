// TLS 1.3 contexts with mutual authentication (tls.h).
#include "link/tls.h"

#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "common/error.h"
#include "link/openssl_util.h"

namespace outpost::link {

namespace ssl = boost::asio::ssl;

namespace {

using StoreCtxPtr = std::unique_ptr<X509_STORE_CTX, OpenSslDeleter<X509_STORE_CTX_free>>;

// Fails unless `cert` chains to a CA in `store`. The validity period is not checked here: an
// expired certificate fails each handshake with "certificate has expired" instead, which the
// peer logs, and a renewed one is picked up at restart.
void RequireSignedByCa(X509_STORE* store, X509* cert, const TlsFiles& files) {
  StoreCtxPtr ctx(X509_STORE_CTX_new());
  if (!ctx || X509_STORE_CTX_init(ctx.get(), store, cert, nullptr) != 1) {
    throw IOError("cannot check ", files.cert.string(), ": ", OpenSslErrors());
  }
  X509_STORE_CTX_set_flags(ctx.get(), X509_V_FLAG_NO_CHECK_TIME);
  if (X509_verify_cert(ctx.get()) != 1) {
    throw SecurityError(files.cert.string(), " is not a certificate signed by the CA in ", files.ca.string(), " (",
                        X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx.get())), ")");
  }
}

// TLS 1.3 only, the CA trusted, this side's certificate and key loaded and checked.
ssl::context MakeContext(ssl::context::method method, const TlsFiles& files) {
  ssl::context context(method);
  SSL_CTX* native = context.native_handle();
  SSL_CTX_set_min_proto_version(native, TLS1_3_VERSION);
  SSL_CTX_set_max_proto_version(native, TLS1_3_VERSION);
  std::vector<X509Ptr> cas = ReadCertificates(files.ca);
  X509Ptr cert = ReadCertificate(files.cert);
  PkeyPtr key = ReadPrivateKey(files.key);
  X509_STORE* store = SSL_CTX_get_cert_store(native);
  for (const X509Ptr& ca : cas) {
    if (X509_STORE_add_cert(store, ca.get()) != 1) throw IOError("cannot trust ", files.ca.string(), ": ", OpenSslErrors());
  }
  RequireSignedByCa(store, cert.get(), files);
  if (SSL_CTX_use_certificate(native, cert.get()) != 1 || SSL_CTX_use_PrivateKey(native, key.get()) != 1 ||
      SSL_CTX_check_private_key(native) != 1) {
    throw SecurityError("the key in ", files.key.string(), " does not match the certificate in ", files.cert.string(),
                        " (", OpenSslErrors(), ")");
  }
  return context;
}

// Whether `host` is an IPv4 or IPv6 address literal.
bool IsIpLiteral(const std::string& host) {
  unsigned char buf[sizeof(in6_addr)];
  return inet_pton(AF_INET, host.c_str(), buf) == 1 || inet_pton(AF_INET6, host.c_str(), buf) == 1;
}

}  // namespace

ssl::context MakeServerContext(const TlsFiles& files) {
  ssl::context context = MakeContext(ssl::context::tls_server, files);
  SSL_CTX* native = context.native_handle();
  for (const X509Ptr& ca : ReadCertificates(files.ca)) {
    if (SSL_CTX_add_client_CA(native, ca.get()) != 1) throw IOError("cannot use ", files.ca.string(), ": ", OpenSslErrors());
  }
  // Without a session id context OpenSSL refuses to resume sessions of verified clients.
  static constexpr unsigned char kSessionContext[] = "outpost";
  SSL_CTX_set_session_id_context(native, kSessionContext, sizeof(kSessionContext) - 1);
  context.set_verify_mode(ssl::verify_peer | ssl::verify_fail_if_no_peer_cert);
  return context;
}

ssl::context MakeClientContext(const TlsFiles& files) {
  ssl::context context = MakeContext(ssl::context::tls_client, files);
  context.set_verify_mode(ssl::verify_peer);
  return context;
}

void SetServerName(SSL* ssl, const std::string& host) {
  std::string name = host;
  if (name.size() > 2 && name.front() == '[' && name.back() == ']') name = name.substr(1, name.size() - 2);
  bool ok = false;
  if (IsIpLiteral(name)) {
    // No SNI for an address (RFC 6066); the certificate must list it as IP: SAN.
    ok = X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), name.c_str()) == 1;
  } else {
    SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    // SSL_set_tlsext_host_name, spelled without the macro's C-style cast.
    ok = SSL_ctrl(ssl, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name, const_cast<char*>(name.c_str())) == 1 &&
         SSL_set1_host(ssl, name.c_str()) == 1;
  }
  if (!ok) throw SecurityError("cannot check the hub's certificate for host `", host, "`: ", OpenSslErrors());
}

std::string PeerCommonName(SSL* ssl) {
  X509* cert = SSL_get0_peer_certificate(ssl);
  if (cert == nullptr || SSL_get_verify_result(ssl) != X509_V_OK) return "";
  char buf[256];
  int n = X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, buf, sizeof(buf));
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : "";
}

std::string VerifyFailure(SSL* ssl) {
  long result = SSL_get_verify_result(ssl);
  return result == X509_V_OK ? "" : X509_verify_cert_error_string(result);
}

}  // namespace outpost::link
