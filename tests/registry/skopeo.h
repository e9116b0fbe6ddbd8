// skopeo as the independent judge of what a store holds: the manifest it reads, its digest, and
// what a registry pull would ship.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace outpost::testing {

// The manifest (or index) skopeo reads at `ref` (docker://, oci:, docker-archive:, ...; TLS not
// verified), byte for byte; empty when skopeo cannot read it.
std::string SkopeoManifest(const std::string& ref);

// "sha256:<hex>" of SkopeoManifest(ref); empty when skopeo cannot read it.
std::string SkopeoDigest(const std::string& ref);

// The compressed size of the layers of `to` that none of `held` has, as `to`'s manifest names
// them: what a registry pull ships of `to`'s layers to a holder of `held`.
uint64_t ChangedLayerBytes(const std::vector<std::string>& held, const std::string& to);

// What a registry pull of `to` ships to a holder of `from`: the manifest, the config and the
// layers `from` lacks, at the sizes `to`'s manifest names; `from` empty: a holder of nothing.
uint64_t RegistryPullBytes(const std::string& from, const std::string& to);

}  // namespace outpost::testing
