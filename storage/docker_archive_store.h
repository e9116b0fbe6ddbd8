// The docker-archive store (`docker-archive:FILE[:TAG]`): what `docker save` writes and
// `docker load` reads.
//
// Reading understands the legacy form (manifest.json naming "<id>.json" configs and
// "<id>/layer.tar" layers, links between members resolved) and the OCI-index form Docker 25+
// writes (the same manifest.json naming "blobs/sha256/<hex>" members, beside index.json and
// oci-layout); an archive without manifest.json but with an OCI layout inside is read as one.
// A gzip-compressed archive file is inflated first. For each manifest.json entry the store
// presents the Docker v2 schema 2 manifest skopeo builds for it, byte for byte: config as stored,
// each layer named by its diffID (an archive's layers are uncompressed, so the diffID is the
// digest of the member). TAG is a RepoTags entry ("busybox:latest") or "@N" (the N-th image).
//
// Writing assembles a new archive in a staging directory beside FILE and renames it into place
// in Commit(): blobs under blobs/sha256/, manifest.json for `docker load`, and index.json +
// oci-layout like Docker 25. Layers must be uncompressed (HoldsCompressedLayers() is false).
#pragma once

#include <filesystem>
#include <memory>

#include "storage/image_store.h"

namespace outpost::storage {

// Opens `file` for reading. Throws NotFound, Corruption (naming the file and what is wrong),
// SecurityError (a member named "../x" or "/x", a link leaving the archive).
std::unique_ptr<ImageStore> OpenDockerArchive(const std::filesystem::path& file);

// Prepares a new archive at `file` (replacing any existing file at Commit()). Nothing appears
// under `file` unless Commit() succeeds.
std::unique_ptr<ImageStore> OpenDockerArchiveForWrite(const std::filesystem::path& file);

}  // namespace outpost::storage
