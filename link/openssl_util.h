// Internal to link/: owning pointers for OpenSSL objects and reading PEM files with errors that
// name the file. Not part of the daemons' contracts.
#pragma once

#include <openssl/evp.h>
#include <openssl/x509.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace outpost::link {

template <auto Free>
struct OpenSslDeleter {
  template <typename T>
  void operator()(T* p) const { Free(p); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, OpenSslDeleter<EVP_PKEY_free>>;
using X509Ptr = std::unique_ptr<X509, OpenSslDeleter<X509_free>>;

// The queued OpenSSL errors as one line ("" when none), clearing the queue.
std::string OpenSslErrors();

// Every certificate in a PEM file. NotFound for a missing file, InvalidArgument naming it when it
// holds none or is malformed.
std::vector<X509Ptr> ReadCertificates(const std::filesystem::path& path);
// The first certificate of a PEM file (same errors).
X509Ptr ReadCertificate(const std::filesystem::path& path);
// A PEM private key (same errors).
PkeyPtr ReadPrivateKey(const std::filesystem::path& path);

}  // namespace outpost::link
