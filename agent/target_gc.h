// Taking images out of the site's target, for the garbage collector (gc.h): an OCI layout's
// index.json entries and the blobs only they used, or a registry's manifests.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace outpost::agent {

// One image to take out: the tag and the manifest digest ("sha256:...") it must still name.
struct TaggedManifest {
  std::string tag;
  std::string manifest;
};

// What happened to one image.
enum class TargetRemoval {
  kRemoved,  // taken out of the target
  kGone,     // the tag no longer names that manifest (or nothing): nothing to do
  kRefused,  // the registry does not allow deletes (405, 403 or 401): left in place
};

// Removes from the OCI layout `dir`, under its index.json lock, the entries of `images` (tag and
// manifest both matching), then every blob those entries reached (manifests, indexes, configs,
// layers) that no remaining entry reaches. Every remaining manifest is read before anything
// changes, so a layout with a broken image is left as it was. One result per image. Throws
// NotFound / Corruption / IOError naming the layout.
std::vector<TargetRemoval> RemoveFromLayout(const std::filesystem::path& dir, const std::vector<TaggedManifest>& images);

// DELETE /v2/REPOSITORY/manifests/DIGEST on the registry `host` ("HOST[:PORT]"): every tag
// naming `manifest` goes with it (the caller checks which do), and the registry collects the
// blobs itself. kGone for 404. Throws the registry's error (RegistryError) for other statuses.
TargetRemoval DeleteFromRegistry(const std::string& host, const std::string& repository, const std::string& manifest);

}  // namespace outpost::agent
