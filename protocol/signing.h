// Ed25519 keys and detached signatures (OpenSSL EVP_PKEY_ED25519), used to sign bundles.
//
// Keys live in PEM files: the private key as PKCS#8 ("BEGIN PRIVATE KEY"), the public key as
// SubjectPublicKeyInfo ("BEGIN PUBLIC KEY"), the forms `openssl genpkey -algorithm ed25519` and
// `openssl pkey -pubout` write, so operators can make or inspect keys with OpenSSL alone.
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

namespace outpost::protocol {

inline constexpr size_t kPublicKeyBytes = 32;
inline constexpr size_t kSignatureBytes = 64;

using PublicKeyBytes = std::array<uint8_t, kPublicKeyBytes>;
using SignatureBytes = std::array<uint8_t, kSignatureBytes>;

// An Ed25519 key (private, or public only). Move-only; owns its OpenSSL object.
class SigningKey {
 public:
  ~SigningKey();
  SigningKey(SigningKey&& other) noexcept;
  SigningKey& operator=(SigningKey&& other) noexcept;

  // A fresh random private key. Throws Security if OpenSSL cannot make one.
  static SigningKey Generate();
  // Reads a PEM private key (PKCS#8) or public key (SPKI) from `path`. Throws NotFound for a
  // missing file, InvalidArgument when the file is not an Ed25519 key of the expected kind.
  static SigningKey LoadPrivate(const std::filesystem::path& path);
  static SigningKey LoadPublic(const std::filesystem::path& path);

  // Writes the private key (mode 0600) / public key (0644) as PEM, atomically. Throws IOError.
  void SavePrivate(const std::filesystem::path& path) const;
  void SavePublic(const std::filesystem::path& path) const;

  bool has_private() const { return has_private_; }
  PublicKeyBytes public_key() const;
  // Signs `message`; requires a private key (InvalidArgument otherwise).
  SignatureBytes Sign(std::string_view message) const;
  // True when `signature` is this key's valid signature of `message`.
  bool Verify(std::string_view message, const SignatureBytes& signature) const;

 private:
  SigningKey(void* pkey, bool has_private) : pkey_(pkey), has_private_(has_private) {}
  void* pkey_;  // EVP_PKEY*, kept opaque so users need not include OpenSSL
  bool has_private_;
};

// "ed25519:" + the first 16 hex digits of sha256(public key): a short name for messages.
std::string KeyFingerprint(const PublicKeyBytes& key);

}  // namespace outpost::protocol
