// A minimal ustar writer: regular files and directories with fixed, reproducible metadata.
// Used to assemble docker-archive files; not a general-purpose archiver.
#pragma once

#include <cstdint>
#include <string>

#include "common/io.h"

namespace outpost::tar {

class Writer {
 public:
  // Writes tar to `out`, which must outlive this object.
  explicit Writer(outpost::Writer& out) : out_(out) {}

  // Adds a regular file `name` (mode 0644, uid/gid 0, mtime `mtime`) whose content is exactly
  // `size` bytes read from `content`. Throws InvalidArgument for a name longer than ustar holds
  // or not IsSafePath, Corruption if `content` ends early.
  void AddFile(const std::string& name, uint64_t size, outpost::Reader& content, int64_t mtime = 0);
  void AddFile(const std::string& name, std::string_view content, int64_t mtime = 0);
  // Adds a directory entry `name` (written with a trailing '/', mode 0755).
  void AddDirectory(const std::string& name, int64_t mtime = 0);
  // Writes the end-of-archive marker (two zero blocks). Nothing may be added afterwards.
  void Finish();

 private:
  void WriteHeader(const std::string& name, char type, uint32_t mode, uint64_t size, int64_t mtime);
  void Pad(uint64_t size);

  outpost::Writer& out_;
};

}  // namespace outpost::tar
