#include "link/sealed_file.h"

#include <openssl/x509v3.h>

#include "common/error.h"
#include "link/openssl_util.h"

namespace outpost::link {
namespace {

constexpr std::string_view kMagic = "OUTPOSTR";
constexpr uint32_t kVersion = 1;

using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, OpenSslDeleter<EVP_MD_CTX_free>>;
using StorePtr = std::unique_ptr<X509_STORE, OpenSslDeleter<X509_STORE_free>>;
using StoreCtxPtr = std::unique_ptr<X509_STORE_CTX, OpenSslDeleter<X509_STORE_CTX_free>>;

void PutU32(std::string* out, uint64_t v) {
  for (int i = 0; i < 4; ++i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

// A little-endian u32 field at `*at`, advancing it; Corruption when the bytes end first.
uint32_t TakeU32(std::string_view in, size_t* at, const std::string& what) {
  if (in.size() - *at < 4) throw Corruption(what, " is truncated");
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | static_cast<uint8_t>(in[*at + static_cast<size_t>(i)]);
  *at += 4;
  return v;
}

std::string_view TakeBytes(std::string_view in, size_t* at, const std::string& what) {
  uint32_t n = TakeU32(in, at, what);
  if (in.size() - *at < n) throw Corruption(what, " is truncated");
  std::string_view out = in.substr(*at, n);
  *at += n;
  return out;
}

std::string CommonName(X509* cert) {
  char buf[256];
  int n = X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, buf, sizeof(buf));
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : "";
}

// EC keys sign a sha256 (ECDSA); Ed25519 keys sign the message itself (no digest).
const EVP_MD* DigestFor(EVP_PKEY* key) { return EVP_PKEY_id(key) == EVP_PKEY_ED25519 ? nullptr : EVP_sha256(); }

}  // namespace

std::string Seal(std::string_view payload, const TlsFiles& files) {
  X509Ptr cert = ReadCertificate(files.cert);
  PkeyPtr key = ReadPrivateKey(files.key);
  if (X509_check_private_key(cert.get(), key.get()) != 1) {
    throw SecurityError("the key in ", files.key.string(), " does not match the certificate in ", files.cert.string());
  }
  unsigned char* der = nullptr;
  int der_len = i2d_X509(cert.get(), &der);
  if (der_len <= 0) throw SecurityError("cannot encode ", files.cert.string(), ": ", OpenSslErrors());
  std::string out(kMagic);
  PutU32(&out, kVersion);
  PutU32(&out, static_cast<uint32_t>(der_len));
  out.append(reinterpret_cast<const char*>(der), static_cast<size_t>(der_len));
  OPENSSL_free(der);
  PutU32(&out, payload.size());
  out += payload;
  MdCtxPtr ctx(EVP_MD_CTX_new());
  size_t sig_len = 0;
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, DigestFor(key.get()), nullptr, key.get()) != 1 ||
      EVP_DigestSign(ctx.get(), nullptr, &sig_len, reinterpret_cast<const unsigned char*>(out.data()), out.size()) != 1) {
    throw SecurityError("cannot sign with ", files.key.string(), ": ", OpenSslErrors());
  }
  std::string sig(sig_len, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &sig_len,
                     reinterpret_cast<const unsigned char*>(out.data()), out.size()) != 1) {
    throw SecurityError("cannot sign with ", files.key.string(), ": ", OpenSslErrors());
  }
  sig.resize(sig_len);
  PutU32(&out, sig.size());
  return out + sig;
}

Unsealed Unseal(std::string_view sealed, const std::filesystem::path& ca_file, const std::string& what) {
  if (sealed.size() > kMaxSealedBytes) throw Corruption(what, " is over ", std::to_string(kMaxSealedBytes), " bytes");
  if (sealed.substr(0, kMagic.size()) != kMagic) throw Corruption(what, " is not a site report (no OUTPOSTR magic)");
  size_t at = kMagic.size();
  uint32_t version = TakeU32(sealed, &at, what);
  if (version != kVersion) throw Unsupported(what, " is sealed-file version ", std::to_string(version), "; this outpost reads 1");
  std::string_view der = TakeBytes(sealed, &at, what);
  std::string_view payload = TakeBytes(sealed, &at, what);
  const size_t signed_bytes = at;
  std::string_view sig = TakeBytes(sealed, &at, what);
  if (at != sealed.size()) throw Corruption(what, " has bytes after its signature");
  const unsigned char* p = reinterpret_cast<const unsigned char*>(der.data());
  X509Ptr cert(d2i_X509(nullptr, &p, static_cast<long>(der.size())));
  if (!cert) throw SecurityError(what, ": its certificate cannot be read (", OpenSslErrors(), ")");
  StorePtr store(X509_STORE_new());
  for (const X509Ptr& ca : ReadCertificates(ca_file)) X509_STORE_add_cert(store.get(), ca.get());
  StoreCtxPtr ctx(X509_STORE_CTX_new());
  if (!ctx || X509_STORE_CTX_init(ctx.get(), store.get(), cert.get(), nullptr) != 1) {
    throw IOError("cannot check ", what, ": ", OpenSslErrors());
  }
  X509_STORE_CTX_set_flags(ctx.get(), X509_V_FLAG_NO_CHECK_TIME);
  const std::string site = CommonName(cert.get());
  if (X509_verify_cert(ctx.get()) != 1) {
    throw SecurityError(what, " is sealed with a certificate for `", site, "` that the CA in ", ca_file.string(),
                        " did not issue (", X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx.get())), ")");
  }
  EVP_PKEY* key = X509_get0_pubkey(cert.get());
  MdCtxPtr md(EVP_MD_CTX_new());
  if (key == nullptr || !md || EVP_DigestVerifyInit(md.get(), nullptr, DigestFor(key), nullptr, key) != 1 ||
      EVP_DigestVerify(md.get(), reinterpret_cast<const unsigned char*>(sig.data()), sig.size(),
                       reinterpret_cast<const unsigned char*>(sealed.data()), signed_bytes) != 1) {
    OpenSslErrors();
    throw SecurityError(what, ": its signature does not match site `", site,
                        "`'s certificate (changed after sealing, or sealed with another site's key)");
  }
  return {site, std::string(payload)};
}

}  // namespace outpost::link
