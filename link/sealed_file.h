// Files a site signs with its TLS identity (the key and the certificate the hub's CA issued it,
// whose common name is the site), so the hub can trust a file carried by hand as it trusts a
// request over the mutual-TLS link (docs/sneakernet-format.md, "Sealed report").
//
//   magic "OUTPOSTR" | u32 version 1 | u32 C | certificate (DER, C bytes) | u32 P | payload (P
//   bytes) | u32 S | signature (S bytes) over every byte before the S field
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "link/tls.h"

namespace outpost::link {

// The largest sealed file: what a reader accepts before it looks at the bytes.
inline constexpr uint64_t kMaxSealedBytes = 1 << 20;

// Seals `payload` with `files.key` and `files.cert` (the agent's tls: section; the CA file is
// not read). Throws NotFound, InvalidArgument (files that are not PEM), Security (key and
// certificate disagree).
std::string Seal(std::string_view payload, const TlsFiles& files);

// What a good seal says.
struct Unsealed {
  std::string site;     // the certificate's common name
  std::string payload;
};

// Checks `sealed` (`what` names it in messages): the framing (Corruption), the certificate chains
// to the CA in `ca_file` (Security), and the signature over the framing, certificate and payload
// matches the certificate's key (Security: tampered, or sealed with another key). The validity
// period is not checked, as on the link (an expired certificate is the link's concern).
Unsealed Unseal(std::string_view sealed, const std::filesystem::path& ca_file, const std::string& what);

}  // namespace outpost::link
