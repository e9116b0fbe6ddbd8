// A small certificate authority (pki.h): EC P-256 keys, X.509 v3 certificates, OpenSSL 3 EVP.
#include "link/pki.h"

#include <arpa/inet.h>
#include <openssl/bn.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <cctype>

#include "common/error.h"
#include "common/file.h"
#include "link/openssl_util.h"

namespace outpost::link {

namespace {

namespace fs = std::filesystem;
using BioPtr = std::unique_ptr<BIO, OpenSslDeleter<BIO_free>>;
using BnPtr = std::unique_ptr<BIGNUM, OpenSslDeleter<BN_free>>;

constexpr int kCaDays = 3650;

[[noreturn]] void Fail(const std::string& doing) { throw IOError("cannot ", doing, ": ", OpenSslErrors()); }

PkeyPtr GenerateKey() {
  PkeyPtr key(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
  if (!key) Fail("generate an EC P-256 key");
  return key;
}

// Adds one extension written in openssl.cnf syntax ("critical,CA:TRUE").
void AddExtension(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
  if (ext == nullptr) Fail("make the certificate extension " + value);
  int ok = X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
  if (ok != 1) Fail("add the certificate extension " + value);
}

// A certificate for `key` named CN=`name`, valid `days` from `not_before`, with a random 128-bit
// serial; unsigned, issued by `issuer` (itself when null).
X509Ptr NewCertificate(EVP_PKEY* key, const std::string& name, WallTime not_before, int days, X509* issuer) {
  X509Ptr cert(X509_new());
  BnPtr serial(BN_new());
  if (!cert || !serial || X509_set_version(cert.get(), X509_VERSION_3) != 1 ||
      BN_rand(serial.get(), 128, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) != 1 ||
      BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(cert.get())) == nullptr) {
    Fail("make a certificate");
  }
  time_t start = std::chrono::system_clock::to_time_t(not_before);
  if (ASN1_TIME_set(X509_getm_notBefore(cert.get()), start) == nullptr ||
      ASN1_TIME_adj(X509_getm_notAfter(cert.get()), start, days, 0) == nullptr) {
    Fail("set the certificate's validity");
  }
  X509_NAME* subject = X509_get_subject_name(cert.get());
  if (X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_UTF8, reinterpret_cast<const unsigned char*>(name.c_str()), -1, -1,
                                 0) != 1 ||
      X509_set_issuer_name(cert.get(), X509_get_subject_name(issuer != nullptr ? issuer : cert.get())) != 1 ||
      X509_set_pubkey(cert.get(), key) != 1) {
    Fail("name the certificate");
  }
  AddExtension(cert.get(), issuer != nullptr ? issuer : cert.get(), NID_subject_key_identifier, "hash");
  AddExtension(cert.get(), issuer != nullptr ? issuer : cert.get(), NID_authority_key_identifier, "keyid:always");
  return cert;
}

void Sign(X509* cert, EVP_PKEY* ca_key) {
  if (X509_sign(cert, ca_key, EVP_sha256()) == 0) Fail("sign the certificate");
}

// PEM text from a writer such as PEM_write_bio_X509.
template <typename Write>
std::string ToPem(Write write) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || write(bio.get()) != 1) Fail("write PEM");
  char* data = nullptr;
  long size = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(size));
}

// Atomically writes `pem` to `path` with `perms` (the temp file has them before any byte).
void WritePem(const fs::path& path, const std::string& pem, fs::perms perms) {
  AtomicFile out(path);
  fs::permissions(out.temp_path(), perms);
  out.Write(pem);
  out.Commit();
}

// Writes NAME.pem (0644), then NAME.key (0600).
void WritePair(const fs::path& dir, const std::string& name, X509* cert, EVP_PKEY* key) {
  WritePem(dir / (name + ".pem"), ToPem([&](BIO* bio) { return PEM_write_bio_X509(bio, cert); }),
           fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read | fs::perms::others_read);
  WritePem(dir / (name + ".key"),
           ToPem([&](BIO* bio) { return PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr, nullptr); }),
           fs::perms::owner_read | fs::perms::owner_write);
}

bool IsIpAddress(const std::string& host) {
  unsigned char buf[sizeof(in6_addr)];
  return inet_pton(AF_INET, host.c_str(), buf) == 1 || inet_pton(AF_INET6, host.c_str(), buf) == 1;
}

bool IsDnsName(const std::string& host) {
  return !host.empty() && host.size() <= 253 && host.front() != '.' && host.front() != '-' &&
         std::all_of(host.begin(), host.end(), [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-'; });
}

// "DNS:hub.example.org,IP:10.0.0.1" for the subjectAltName extension.
std::string AltNames(const std::vector<std::string>& hosts) {
  std::string out;
  for (const std::string& host : hosts) {
    if (!out.empty()) out += ",";
    if (IsIpAddress(host)) {
      out += "IP:" + host;
    } else if (IsDnsName(host)) {
      out += "DNS:" + host;
    } else {
      throw InvalidArgument("host `", host, "`: expected a DNS name (hub.example.org) or an IP address (10.0.0.1)");
    }
  }
  return out;
}

void RequireValidName(const std::string& name) {
  bool ok = !name.empty() && name.size() <= 64 && name != "." && name != ".." &&
            std::all_of(name.begin(), name.end(), [](char c) {
              return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-';
            });
  if (!ok) throw InvalidArgument("certificate name `", name, "`: expected 1 to 64 of A-Z a-z 0-9 . _ -");
  if (name == "ca") throw InvalidArgument("certificate name `ca` is the CA's own: choose another name");
}

}  // namespace

void InitCa(const fs::path& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw IOError("cannot create ", dir.string(), ": ", ec.message());
  bool exists = fs::exists(dir / "ca.key", ec);
  if (ec) throw IOError("cannot check whether ", (dir / "ca.key").string(), " exists: ", ec.message());
  if (exists) throw InvalidArgument((dir / "ca.key").string(), " exists: refusing to overwrite a CA");
  PkeyPtr key = GenerateKey();
  X509Ptr cert = NewCertificate(key.get(), "outpost CA", std::chrono::system_clock::now(), kCaDays, nullptr);
  AddExtension(cert.get(), cert.get(), NID_basic_constraints, "critical,CA:TRUE,pathlen:0");
  AddExtension(cert.get(), cert.get(), NID_key_usage, "critical,keyCertSign,cRLSign");
  Sign(cert.get(), key.get());
  WritePair(dir, "ca", cert.get(), key.get());
}

void IssueCertificate(const fs::path& dir, const std::string& name, const IssueOptions& options) {
  RequireValidName(name);
  if (options.days < 1) throw InvalidArgument("certificate validity of ", std::to_string(options.days), " days: expected at least 1");
  std::string alt_names = AltNames(options.hosts);
  if (!fs::exists(dir / "ca.key") || !fs::exists(dir / "ca.pem")) {
    throw NotFound(dir.string(), " holds no CA (ca.pem and ca.key): make one with `outpost pki init ", dir.string(), "`");
  }
  X509Ptr ca = ReadCertificate(dir / "ca.pem");
  PkeyPtr ca_key = ReadPrivateKey(dir / "ca.key");
  PkeyPtr key = GenerateKey();
  X509Ptr cert = NewCertificate(key.get(), name, options.not_before.value_or(std::chrono::system_clock::now()), options.days,
                                ca.get());
  AddExtension(cert.get(), ca.get(), NID_basic_constraints, "critical,CA:FALSE");
  AddExtension(cert.get(), ca.get(), NID_key_usage, "critical,digitalSignature");
  AddExtension(cert.get(), ca.get(), NID_ext_key_usage, "serverAuth,clientAuth");
  if (!alt_names.empty()) AddExtension(cert.get(), ca.get(), NID_subject_alt_name, alt_names);
  Sign(cert.get(), ca_key.get());
  WritePair(dir, name, cert.get(), key.get());
}

}  // namespace outpost::link
