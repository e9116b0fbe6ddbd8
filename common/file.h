// Files: readers and writers over file descriptors, and the atomic-write discipline every store
// uses (write a temp file beside the target, fsync, rename, fsync the directory), so a crash or a
// full disk never leaves a half-written file under its final name.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "common/io.h"

namespace outpost {

namespace fs = std::filesystem;

// Reads a file from `offset` to its end.
class FileReader : public Reader {
 public:
  // Throws NotFound if `path` does not exist, IOError if it cannot be opened.
  explicit FileReader(const fs::path& path, uint64_t offset = 0);
  ~FileReader() override;
  FileReader(const FileReader&) = delete;
  FileReader& operator=(const FileReader&) = delete;
  size_t Read(uint8_t* buf, size_t n) override;

 private:
  fs::path path_;
  int fd_;
  uint64_t offset_;
};

// A file read at arbitrary offsets (pread), e.g. a base tar during delta apply.
class RandomAccessFile : public RandomAccess {
 public:
  explicit RandomAccessFile(const fs::path& path);
  ~RandomAccessFile() override;
  RandomAccessFile(const RandomAccessFile&) = delete;
  RandomAccessFile& operator=(const RandomAccessFile&) = delete;
  void ReadAt(uint64_t offset, uint8_t* buf, size_t n) const override;
  uint64_t size() const override { return size_; }

 private:
  fs::path path_;
  int fd_;
  uint64_t size_;
};

// Writes a new file that appears under `path` only when Commit() succeeds. Until then the bytes
// go to a hidden temp file in the same directory; destroying the object without Commit() (an
// exception, a failed digest check) removes the temp file and leaves `path` as it was.
class AtomicFile : public Writer {
 public:
  explicit AtomicFile(const fs::path& path);
  ~AtomicFile() override;
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  using Writer::Write;
  void Write(const uint8_t* data, size_t n) override;
  // fsyncs the data, renames it over `path` and fsyncs the directory. Throws IOError (e.g. disk
  // full) and then leaves `path` untouched.
  void Commit();
  uint64_t bytes_written() const { return written_; }
  const fs::path& temp_path() const { return temp_; }

 private:
  fs::path path_;
  fs::path temp_;
  int fd_;
  uint64_t written_ = 0;
  bool committed_ = false;
};

// The size of the regular file `path` (following symlinks). Throws NotFound / IOError naming
// the path, never std::filesystem's errors.
uint64_t FileSize(const fs::path& path);
// Reads a whole (small) file. Throws NotFound / IOError naming the path.
std::string ReadFileToString(const fs::path& path, size_t limit = 64 << 20);
// Atomically replaces `path` with `data` (AtomicFile + Commit).
void WriteFileAtomic(const fs::path& path, std::string_view data);
// fsyncs a directory so a rename inside it is durable.
void SyncDirectory(const fs::path& dir);
// fsyncs a file's data, so a rename of it is durable.
void SyncFile(const fs::path& file);

// A fresh directory under the system temp dir (or `parent`), removed with its contents on
// destruction.
class TempDir {
 public:
  explicit TempDir(const fs::path& parent = fs::temp_directory_path(), std::string_view prefix = "outpost-");
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

}  // namespace outpost
