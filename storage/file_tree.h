// Read access to the files of an image store, wherever they sit: a directory (an OCI layout) or
// the members of a tar file (a docker-archive or oci-archive, optionally gzip-compressed as a
// whole). Stores read through this so one OCI layout reader serves `oci:` and `oci-archive:`.
//
// Path safety is enforced here: names are relative, '/'-separated, without ".."; a directory
// tree refuses a symlink that resolves outside the directory, and a tar tree refuses at open time
// any member named "../x" or "/x" and, at lookup, a link that leads outside the archive.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "common/io.h"

namespace outpost::storage {

class FileTree {
 public:
  virtual ~FileTree() = default;
  // The directory or file the tree reads, for messages.
  virtual std::string Describe() const = 0;
  // How `name` is shown in messages: "DIR/name" or "FILE:name".
  virtual std::string DescribeMember(const std::string& name) const = 0;
  // The size of regular file `name`, or nullopt if there is none. Throws SecurityError for a
  // name or symlink that leaves the tree.
  virtual std::optional<uint64_t> Size(const std::string& name) = 0;
  // Opens regular file `name` at `offset`. Throws NotFound naming the member, SecurityError.
  virtual std::unique_ptr<Reader> Open(const std::string& name, uint64_t offset = 0) = 0;

  // Reads a small member whole (index.json, manifest.json, configs).
  std::string ReadSmall(const std::string& name, size_t limit = 64 << 20);
};

// A tree over directory `dir`. Throws NotFound if it does not exist.
std::unique_ptr<FileTree> OpenDirectoryTree(const std::filesystem::path& dir);

// A tree over the members of tar file `file`, indexed once at open. A gzip-compressed tar is
// first inflated into a temporary file (removed when the tree is destroyed). Throws NotFound,
// Corruption (truncated or corrupt tar, naming `file`), SecurityError (unsafe member name).
std::unique_ptr<FileTree> OpenTarTree(const std::filesystem::path& file);

}  // namespace outpost::storage
