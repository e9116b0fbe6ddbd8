#include "protocol/part_file.h"

#include <algorithm>
#include <cctype>
#include <cstring>

#include "common/error.h"
#include "common/file.h"

namespace outpost::protocol {
namespace {

constexpr std::string_view kPartMagic = "OUTPOSTP";
constexpr size_t kFixedBytes = 124;  // magic through transfer id
constexpr size_t kSignatureBlockBytes = kPublicKeyBytes + kSignatureBytes;
constexpr size_t kMaxSiteBytes = 64;
constexpr size_t kMaxAsBytes = 255;
// The longest header: fixed fields, both names at their limits, a signature, the checksum.
constexpr size_t kMaxPartHeaderBytes = kFixedBytes + 2 + kMaxSiteBytes + kMaxAsBytes + 4 + kSignatureBlockBytes + 32;
constexpr size_t kCopyBytes = 1 << 20;

void PutLe(std::string* out, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

uint64_t GetLe(std::string_view in, size_t at, int bytes) {
  uint64_t v = 0;
  for (int i = bytes - 1; i >= 0; --i) v = (v << 8) | static_cast<uint8_t>(in[at + static_cast<size_t>(i)]);
  return v;
}

void PutDigest(std::string* out, const Digest& d) { out->append(reinterpret_cast<const char*>(d.bytes().data()), 32); }

Digest GetDigest(std::string_view in, size_t at) {
  std::array<uint8_t, 32> bytes;
  std::memcpy(bytes.data(), in.data() + at, 32);
  return Digest(bytes);
}

// Every byte of a part's header but the signature block and the checksum: the signed message.
std::string SignedFields(const PartHeader& h) {
  std::string out(kPartMagic);
  PutLe(&out, kPartFormatVersion, 4);
  PutLe(&out, h.index, 4);
  PutLe(&out, h.count, 4);
  PutLe(&out, h.offset, 8);
  PutLe(&out, h.length, 8);
  PutDigest(&out, h.part_digest);
  PutDigest(&out, h.carriage.bundle);
  PutLe(&out, h.carriage.bundle_bytes, 8);
  PutLe(&out, h.carriage.head_bytes, 8);
  PutLe(&out, static_cast<uint64_t>(h.carriage.transfer), 8);
  PutLe(&out, h.carriage.site.size(), 1);
  out += h.carriage.site;
  PutLe(&out, h.carriage.as.size(), 1);
  out += h.carriage.as;
  return out;
}

std::string EncodeHeader(const PartHeader& h, const SigningKey* key) {
  std::string out = SignedFields(h);
  if (key != nullptr) {
    std::string message = out;
    SignatureBytes sig = key->Sign(message);
    PublicKeyBytes pub = key->public_key();
    PutLe(&out, kSignatureBlockBytes, 4);
    out.append(reinterpret_cast<const char*>(pub.data()), pub.size());
    out.append(reinterpret_cast<const char*>(sig.data()), sig.size());
  } else {
    PutLe(&out, 0, 4);
  }
  PutDigest(&out, Digest::Of(out));
  return out;
}

// Reads up to `n` bytes from the start of `path` (fewer when the file is shorter).
std::string ReadPrefix(const std::filesystem::path& path, size_t n) {
  FileReader in(path);
  std::string out(n, '\0');
  size_t got = 0;
  while (got < n) {
    size_t r = in.Read(reinterpret_cast<uint8_t*>(out.data()) + got, n - got);
    if (r == 0) break;
    got += r;
  }
  out.resize(got);
  return out;
}

void CheckNames(const Carriage& c) {
  if (c.site.empty() || c.site.size() > kMaxSiteBytes) throw InvalidArgument("site name `", c.site, "` is not 1..64 bytes");
  if (c.as.size() > kMaxAsBytes) throw InvalidArgument("tag `", c.as, "` is over 255 bytes");
}

// Parses a header from `bytes` (the file's first bytes) for `what`; the checksum and the
// signature are checked, nothing else is trusted before them.
PartHeader ParseHeader(std::string_view bytes, const std::string& what, const SigningKey* verify_key) {
  auto need = [&](size_t n) {
    if (bytes.size() < n) throw Corruption(what, " is truncated inside its header (", std::to_string(bytes.size()), " bytes)");
  };
  need(12);
  if (bytes.substr(0, 8) != kPartMagic) throw Corruption(what, " is not an outpost part (no OUTPOSTP magic)");
  uint32_t version = static_cast<uint32_t>(GetLe(bytes, 8, 4));
  if (version > kPartFormatVersion) {
    throw Unsupported(what, " is part format version ", std::to_string(version), "; this outpost reads version 1");
  }
  if (version == 0) throw Corruption(what, ": part format version 0");
  need(kFixedBytes + 1);
  size_t s = static_cast<uint8_t>(bytes[kFixedBytes]);
  need(kFixedBytes + 2 + s);
  size_t a = static_cast<uint8_t>(bytes[kFixedBytes + 1 + s]);
  size_t sig_at = kFixedBytes + 2 + s + a;
  need(sig_at + 4);
  uint64_t sig_len = GetLe(bytes, sig_at, 4);
  if (sig_len != 0 && sig_len != kSignatureBlockBytes) throw Corruption(what, ": its header is damaged (signature length)");
  size_t sum_at = sig_at + 4 + sig_len;
  need(sum_at + 32);
  if (Digest::Of(bytes.substr(0, sum_at)) != GetDigest(bytes, sum_at)) {
    throw Corruption(what, ": its header is damaged (checksum mismatch)");
  }
  PartHeader h;
  h.index = static_cast<uint32_t>(GetLe(bytes, 12, 4));
  h.count = static_cast<uint32_t>(GetLe(bytes, 16, 4));
  h.offset = GetLe(bytes, 20, 8);
  h.length = GetLe(bytes, 28, 8);
  h.part_digest = GetDigest(bytes, 36);
  h.carriage.bundle = GetDigest(bytes, 68);
  h.carriage.bundle_bytes = GetLe(bytes, 100, 8);
  h.carriage.head_bytes = GetLe(bytes, 108, 8);
  h.carriage.transfer = static_cast<int64_t>(GetLe(bytes, 116, 8));
  h.carriage.site = std::string(bytes.substr(kFixedBytes + 1, s));
  h.carriage.as = std::string(bytes.substr(kFixedBytes + 2 + s, a));
  h.header_bytes = sum_at + 32;
  if (sig_len != 0) {
    PublicKeyBytes pub;
    std::memcpy(pub.data(), bytes.data() + sig_at + 4, pub.size());
    h.signer = pub;
  }
  if (verify_key != nullptr) {
    if (!h.signer) throw SecurityError(what, " is unsigned; the verify key requires parts signed by the hub");
    if (*h.signer != verify_key->public_key()) {
      throw SecurityError(what, " is signed by ", KeyFingerprint(*h.signer), ", not by the verify key ",
                          KeyFingerprint(verify_key->public_key()));
    }
    SignatureBytes sig;
    std::memcpy(sig.data(), bytes.data() + sig_at + 4 + kPublicKeyBytes, sig.size());
    if (!verify_key->Verify(bytes.substr(0, sig_at), sig)) throw SecurityError(what, ": its signature does not match its header");
  }
  if (h.count == 0 || h.count > kMaxParts || h.index == 0 || h.index > h.count || h.offset > h.carriage.bundle_bytes ||
      h.length > h.carriage.bundle_bytes - h.offset || h.carriage.head_bytes > h.carriage.bundle_bytes || s == 0) {
    throw Corruption(what, ": its header is inconsistent (part ", std::to_string(h.index), " of ", std::to_string(h.count), ")");
  }
  return h;
}

std::string PartName(const PartHeader& h) {
  return "part " + std::to_string(h.index) + " of " + std::to_string(h.count);
}

// Copies the part's bytes from `path` into `out` and `whole`, one read; "" when they are exactly
// the part's, else why not.
std::string CopyPart(const std::filesystem::path& path, const PartHeader& h, Writer& out, Sha256& whole) {
  FileReader in(path, h.header_bytes);
  Sha256 sha;
  std::string buf(kCopyBytes, '\0');
  uint64_t left = h.length;
  while (left > 0) {
    size_t want = static_cast<size_t>(std::min<uint64_t>(left, buf.size()));
    size_t got = in.Read(reinterpret_cast<uint8_t*>(buf.data()), want);
    if (got == 0) {
      return "truncated (" + std::to_string(h.length - left) + " of " + std::to_string(h.length) + " bytes)";
    }
    sha.Update(buf.data(), got);
    whole.Update(buf.data(), got);
    out.Write(reinterpret_cast<const uint8_t*>(buf.data()), got);
    left -= got;
  }
  uint8_t extra;
  if (in.Read(&extra, 1) != 0) return "too long (bytes after its " + std::to_string(h.length) + ")";
  if (sha.Finish() != h.part_digest) return "corrupt (its bytes do not match their sha256)";
  return "";
}

}  // namespace

std::string PartFileName(const Carriage& c, uint32_t index, uint32_t count) {
  std::string as = c.as;
  std::replace_if(as.begin(), as.end(), [](char ch) {
    return !(std::isalnum(static_cast<unsigned char>(ch)) || ch == '.' || ch == '_' || ch == '-');
  }, '_');
  return c.site + "-t" + std::to_string(c.transfer) + (as.empty() ? "" : "-" + as) + "-part" + std::to_string(index) +
         "of" + std::to_string(count) + ".outpost";
}

std::vector<std::filesystem::path> WriteParts(const std::filesystem::path& bundle, const Carriage& carriage,
                                              uint64_t max_part_bytes, const std::filesystem::path& dir,
                                              const SigningKey* key) {
  CheckNames(carriage);
  if (max_part_bytes < kMinPartBytes) {
    throw InvalidArgument("--max-part-size ", std::to_string(max_part_bytes), " is below the smallest part, ",
                          std::to_string(kMinPartBytes), " bytes");
  }
  const uint64_t per_part = max_part_bytes - kMaxPartHeaderBytes;
  const uint64_t count = carriage.bundle_bytes == 0 ? 1 : (carriage.bundle_bytes - 1) / per_part + 1;
  if (count > kMaxParts) {
    throw InvalidArgument("the bundle of transfer ", std::to_string(carriage.transfer), " (", std::to_string(carriage.bundle_bytes),
                          " bytes) needs ", std::to_string(count), " parts; at most ", std::to_string(kMaxParts),
                          " (raise --max-part-size)");
  }
  std::filesystem::create_directories(dir);
  // Each part's bytes are read once into memory only in pieces; the part's sha256 must precede
  // them, so each part is written to a temp body file first and then framed.
  FileReader in(bundle);
  Sha256 whole;
  std::vector<std::filesystem::path> out;
  std::string buf(kCopyBytes, '\0');
  for (uint32_t i = 1; i <= count; ++i) {
    PartHeader h;
    h.carriage = carriage;
    h.index = i;
    h.count = static_cast<uint32_t>(count);
    h.offset = (i - 1) * per_part;
    h.length = std::min<uint64_t>(per_part, carriage.bundle_bytes - h.offset);
    const std::filesystem::path path = dir / PartFileName(carriage, i, h.count);
    std::filesystem::path body_path = path;
    body_path += ".body";
    Sha256 sha;
    {
      AtomicFile body(body_path);
      for (uint64_t left = h.length; left > 0;) {
        size_t got = in.Read(reinterpret_cast<uint8_t*>(buf.data()), static_cast<size_t>(std::min<uint64_t>(left, buf.size())));
        if (got == 0) throw Corruption("bundle ", bundle.string(), " is shorter than ", std::to_string(carriage.bundle_bytes), " bytes");
        sha.Update(buf.data(), got);
        whole.Update(buf.data(), got);
        body.Write(reinterpret_cast<const uint8_t*>(buf.data()), got);
        left -= got;
      }
      body.Commit();
    }
    h.part_digest = sha.Finish();
    AtomicFile part(path);
    part.Write(EncodeHeader(h, key));
    FileReader body(body_path);
    Copy(body, part);
    part.Commit();
    std::filesystem::remove(body_path);
    out.push_back(path);
  }
  if (whole.Finish() != carriage.bundle) {
    for (const auto& p : out) std::filesystem::remove(p);
    throw Corruption("bundle ", bundle.string(), " changed while it was cut into parts (its sha256 is not ", carriage.bundle.str(), ")");
  }
  return out;
}

PartHeader ReadPartHeader(const std::filesystem::path& path, const SigningKey* verify_key) {
  return ParseHeader(ReadPrefix(path, kMaxPartHeaderBytes), "part file " + path.string(), verify_key);
}

std::vector<CarriedBundle> GroupParts(const std::vector<std::filesystem::path>& files, const SigningKey* verify_key) {
  std::vector<CarriedBundle> bundles;
  std::vector<std::string> damaged;
  std::vector<std::pair<std::filesystem::path, PartHeader>> headers;
  for (const std::filesystem::path& file : files) {
    try {
      headers.emplace_back(file, ReadPartHeader(file, verify_key));
    } catch (const Error& e) {
      if (e.kind() != Error::Kind::kCorruption) throw;
      damaged.push_back(e.what());
    }
  }
  for (const auto& [file, h] : headers) {
    const Digest& id = h.carriage.bundle;  // clang 14 cannot capture a structured binding
    auto it = std::find_if(bundles.begin(), bundles.end(), [&](const CarriedBundle& b) { return b.carriage.bundle == id; });
    if (it == bundles.end()) {
      CarriedBundle b;
      b.carriage = h.carriage;
      b.count = h.count;
      b.parts.resize(h.count);
      bundles.push_back(std::move(b));
      it = bundles.end() - 1;
    }
    const Carriage& c = it->carriage;
    if (h.count != it->count || c.site != h.carriage.site || c.transfer != h.carriage.transfer || c.as != h.carriage.as ||
        c.bundle_bytes != h.carriage.bundle_bytes || c.head_bytes != h.carriage.head_bytes) {
      throw Corruption("part file ", file.string(), " disagrees with the other parts of bundle ", c.bundle.str(),
                       " (transfer, site, tag, size or part count)");
    }
    if (!it->parts[h.index - 1]) it->parts[h.index - 1] = CarriedPart{file, h};
  }
  for (CarriedBundle& b : bundles) b.damaged = damaged;
  if (bundles.empty() && !damaged.empty()) {
    std::string all;
    for (const std::string& d : damaged) all += (all.empty() ? "" : "; ") + d;
    throw Corruption(all, ": carry it again");
  }
  return bundles;
}

void AssembleParts(const CarriedBundle& carried, const std::filesystem::path& out) {
  const Carriage& c = carried.carriage;
  std::vector<std::string> problems;
  bool corrupt = false;
  AtomicFile file(out);
  Sha256 whole;
  uint64_t offset = 0;
  for (uint32_t i = 1; i <= carried.count; ++i) {
    const std::string name = "part " + std::to_string(i) + " of " + std::to_string(carried.count);
    const std::string carry = "carry " + PartFileName(c, i, carried.count) + " again";
    const std::optional<CarriedPart>& part = carried.parts[i - 1];
    if (!part) {
      problems.push_back(name + " missing" + (carried.damaged.empty() ? "" : " or damaged") + ": " + carry);
      corrupt = corrupt || !carried.damaged.empty();
      continue;
    }
    if (problems.empty() && part->header.offset != offset) {
      throw Corruption("part file ", part->path.string(), ": ", PartName(part->header), " starts at byte ",
                       std::to_string(part->header.offset), ", not ", std::to_string(offset));
    }
    offset = part->header.offset + part->header.length;
    if (!problems.empty()) {  // the file is discarded: only check this part's bytes
      NullWriter sink;
      Sha256 ignored;
      std::string why = CopyPart(part->path, part->header, sink, ignored);
      if (!why.empty()) {
        problems.push_back(name + " (" + part->path.string() + ") " + why + ": " + carry);
        corrupt = true;
      }
      continue;
    }
    std::string why = CopyPart(part->path, part->header, file, whole);
    if (!why.empty()) {
      problems.push_back(name + " (" + part->path.string() + ") " + why + ": " + carry);
      corrupt = true;
    }
  }
  std::string what = "bundle " + c.bundle.str() + " (transfer " + std::to_string(c.transfer) +
                     (c.as.empty() ? "" : " as " + c.as) + " for site " + c.site + ")";
  if (!problems.empty()) {
    std::string all;
    for (const std::string& p : problems) all += "; " + p;
    for (const std::string& d : carried.damaged) all += "; damaged here: " + d;
    if (corrupt) throw Corruption(what, all);
    throw NotFound(what, all);
  }
  if (offset != c.bundle_bytes || whole.Finish() != c.bundle) {
    throw Corruption(what, ": its parts do not make the bundle (sha256 or size differ): carry all ",
                     std::to_string(carried.count), " parts again");
  }
  file.Commit();
}

}  // namespace outpost::protocol
