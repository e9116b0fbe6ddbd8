// OpenSSL helpers shared by tls.cc and pki.cc (openssl_util.h).
#include "link/openssl_util.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>

#include "common/error.h"
#include "common/file.h"

namespace outpost::link {

namespace {

using BioPtr = std::unique_ptr<BIO, OpenSslDeleter<BIO_free>>;

// Encrypted keys are not supported: OpenSSL's default would prompt on the terminal.
int NoPassword(char*, int, int, void*) { return -1; }

BioPtr ReadPem(const std::filesystem::path& path) {
  std::string text = ReadFileToString(path, 1 << 20);
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || BIO_write(bio.get(), text.data(), static_cast<int>(text.size())) != static_cast<int>(text.size())) {
    throw IOError("cannot buffer ", path.string(), ": ", OpenSslErrors());
  }
  return bio;
}

}  // namespace

std::string OpenSslErrors() {
  std::string out;
  while (unsigned long code = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(code, buf, sizeof(buf));
    if (!out.empty()) out += "; ";
    out += buf;
  }
  return out;
}

std::vector<X509Ptr> ReadCertificates(const std::filesystem::path& path) {
  BioPtr bio = ReadPem(path);
  std::vector<X509Ptr> certs;
  while (X509* cert = PEM_read_bio_X509(bio.get(), nullptr, NoPassword, nullptr)) certs.emplace_back(cert);
  ERR_clear_error();  // the end of the file reads as an error
  if (certs.empty()) throw InvalidArgument(path.string(), ": not a PEM certificate file");
  return certs;
}

X509Ptr ReadCertificate(const std::filesystem::path& path) { return std::move(ReadCertificates(path).front()); }

PkeyPtr ReadPrivateKey(const std::filesystem::path& path) {
  BioPtr bio = ReadPem(path);
  PkeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, NoPassword, nullptr));
  if (!key) throw InvalidArgument(path.string(), ": not an unencrypted PEM private key (", OpenSslErrors(), ")");
  return key;
}

}  // namespace outpost::link
