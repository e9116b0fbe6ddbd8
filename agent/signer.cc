#include "agent/signer.h"

#include "agent/applier.h"
#include "common/digest.h"
#include "common/error.h"
#include "common/file.h"
#include "link/http.h"
#include "sync/image_signature.h"

namespace outpost::agent {

std::string SignTargetImage(const AgentConfig& config, storage::StoreFactory& stores, const SignatureWanted& wanted) {
  const size_t colon = wanted.image.rfind(':');
  const std::string repo = wanted.image.substr(0, colon);
  const storage::Reference ref = IntoReference(config, "", repo + "@" + wanted.manifest);
  const std::filesystem::path scratch = config.state_dir / "scratch";
  std::filesystem::create_directories(scratch);
  sync::ImageBlockSignature sig = sync::ComputeImageBlockSignature(ref, &stores, scratch);
  TempDir dir(scratch, "outpost-signature-");
  const std::filesystem::path file = dir.path() / (Digest::Parse(wanted.manifest).hex() + ".sig");
  sig.Save(file);
  if (uint64_t bytes = FileSize(file); bytes > link::kMaxSignatureBytes) {
    throw Unsupported("the signature of ", wanted.image, " is ", std::to_string(bytes), " bytes, over the protocol's ",
                      std::to_string(link::kMaxSignatureBytes >> 20), " MiB limit; the hub sends whole blobs after its wait");
  }
  return ReadFileToString(file, link::kMaxSignatureBytes);
}

}  // namespace outpost::agent
