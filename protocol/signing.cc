#include "protocol/signing.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <sys/stat.h>

#include <utility>

#include "common/digest.h"
#include "common/error.h"
#include "common/file.h"

namespace outpost::protocol {
namespace {

EVP_PKEY* Pkey(void* p) { return static_cast<EVP_PKEY*>(p); }

using BioPtr = std::unique_ptr<BIO, decltype(&BIO_free)>;

BioPtr MemoryBio(std::string_view data) {
  BioPtr bio(BIO_new_mem_buf(data.data(), static_cast<int>(data.size())), &BIO_free);
  if (!bio) throw SecurityError("OpenSSL cannot allocate a buffer");
  return bio;
}

std::string BioContents(BIO* bio) {
  char* data = nullptr;
  long n = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<size_t>(n));
}

void RequireEd25519(EVP_PKEY* pkey, const std::filesystem::path& path) {
  if (pkey == nullptr) throw InvalidArgument(path.string(), ": not a PEM key file");
  if (EVP_PKEY_get_id(pkey) != EVP_PKEY_ED25519) {
    EVP_PKEY_free(pkey);
    throw InvalidArgument(path.string(), ": not an Ed25519 key");
  }
}

void WritePem(const std::filesystem::path& path, const std::string& pem, std::filesystem::perms perms) {
  AtomicFile out(path);
  std::filesystem::permissions(out.temp_path(), perms);
  out.Write(pem);
  out.Commit();
}

}  // namespace

SigningKey::~SigningKey() { EVP_PKEY_free(Pkey(pkey_)); }

SigningKey::SigningKey(SigningKey&& other) noexcept
    : pkey_(std::exchange(other.pkey_, nullptr)), has_private_(other.has_private_) {}

SigningKey& SigningKey::operator=(SigningKey&& other) noexcept {
  std::swap(pkey_, other.pkey_);
  std::swap(has_private_, other.has_private_);
  return *this;
}

SigningKey SigningKey::Generate() {
  EVP_PKEY* pkey = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
  if (pkey == nullptr) throw SecurityError("OpenSSL cannot generate an Ed25519 key");
  return SigningKey(pkey, true);
}

SigningKey SigningKey::LoadPrivate(const std::filesystem::path& path) {
  std::string pem = ReadFileToString(path, 1 << 20);
  BioPtr bio = MemoryBio(pem);
  EVP_PKEY* pkey = PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr);
  if (pkey == nullptr) {
    throw InvalidArgument(path.string(), ": not a PEM private key (make one with `outpost keygen`)");
  }
  RequireEd25519(pkey, path);
  return SigningKey(pkey, true);
}

SigningKey SigningKey::LoadPublic(const std::filesystem::path& path) {
  std::string pem = ReadFileToString(path, 1 << 20);
  BioPtr bio = MemoryBio(pem);
  EVP_PKEY* pkey = PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr);
  if (pkey == nullptr) {
    throw InvalidArgument(path.string(), ": not a PEM public key (the .pub file `outpost keygen` wrote)");
  }
  RequireEd25519(pkey, path);
  return SigningKey(pkey, false);
}

void SigningKey::SavePrivate(const std::filesystem::path& path) const {
  BioPtr bio(BIO_new(BIO_s_mem()), &BIO_free);
  if (!bio || PEM_write_bio_PrivateKey(bio.get(), Pkey(pkey_), nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    throw SecurityError("OpenSSL cannot encode the private key for ", path.string());
  }
  WritePem(path, BioContents(bio.get()), std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
}

void SigningKey::SavePublic(const std::filesystem::path& path) const {
  BioPtr bio(BIO_new(BIO_s_mem()), &BIO_free);
  if (!bio || PEM_write_bio_PUBKEY(bio.get(), Pkey(pkey_)) != 1) {
    throw SecurityError("OpenSSL cannot encode the public key for ", path.string());
  }
  using std::filesystem::perms;
  WritePem(path, BioContents(bio.get()), perms::owner_read | perms::owner_write | perms::group_read | perms::others_read);
}

PublicKeyBytes SigningKey::public_key() const {
  PublicKeyBytes out{};
  size_t n = out.size();
  if (EVP_PKEY_get_raw_public_key(Pkey(pkey_), out.data(), &n) != 1 || n != out.size()) {
    throw SecurityError("OpenSSL cannot export the Ed25519 public key");
  }
  return out;
}

SignatureBytes SigningKey::Sign(std::string_view message) const {
  if (!has_private_) throw InvalidArgument("signing needs a private key, not a public one");
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  SignatureBytes sig{};
  size_t n = sig.size();
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, Pkey(pkey_)) != 1 ||
      EVP_DigestSign(ctx.get(), sig.data(), &n, reinterpret_cast<const unsigned char*>(message.data()),
                     message.size()) != 1 ||
      n != sig.size()) {
    throw SecurityError("OpenSSL cannot make an Ed25519 signature");
  }
  return sig;
}

bool SigningKey::Verify(std::string_view message, const SignatureBytes& signature) const {
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  if (!ctx || EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, Pkey(pkey_)) != 1) {
    throw SecurityError("OpenSSL cannot start Ed25519 verification");
  }
  return EVP_DigestVerify(ctx.get(), signature.data(), signature.size(),
                          reinterpret_cast<const unsigned char*>(message.data()), message.size()) == 1;
}

std::string KeyFingerprint(const PublicKeyBytes& key) {
  Digest d = Digest::Of(std::string_view(reinterpret_cast<const char*>(key.data()), key.size()));
  return "ed25519:" + d.hex().substr(0, 16);
}

}  // namespace outpost::protocol
