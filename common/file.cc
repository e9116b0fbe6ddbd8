#include "common/file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <random>

#include "common/error.h"

namespace outpost {
namespace {

int OpenOrThrow(const fs::path& path, int flags, mode_t mode = 0) {
  int fd = ::open(path.c_str(), flags | O_CLOEXEC, mode);
  if (fd < 0) {
    if (errno == ENOENT) throw NotFound("no such file: ", path.string());
    throw ErrnoError("cannot open", path.string());
  }
  return fd;
}

// Creates `temp`, the temporary file that becomes `path`; a missing folder is named as such.
int CreateTemp(const fs::path& temp, const fs::path& path) {
  int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd >= 0) return fd;
  if (errno == ENOENT) {
    throw NotFound("cannot write ", path.string(), ": the folder ", path.parent_path().string(),
                   " does not exist (create it first)");
  }
  throw ErrnoError("cannot write", path.string());
}

// fsyncs `path`, opened read-only with `flags`; `what` starts the error message.
void Sync(const fs::path& path, int flags, const char* what) {
  int fd = OpenOrThrow(path, O_RDONLY | flags);
  int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) throw ErrnoError(what, path.string());
}

std::string RandomSuffix() {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  return std::to_string(rng() % 1000000000000ULL);
}

}  // namespace

FileReader::FileReader(const fs::path& path, uint64_t offset)
    : path_(path), fd_(OpenOrThrow(path, O_RDONLY)), offset_(offset) {}

FileReader::~FileReader() { ::close(fd_); }

size_t FileReader::Read(uint8_t* buf, size_t n) {
  for (;;) {
    ssize_t got = ::pread(fd_, buf, n, static_cast<off_t>(offset_));
    if (got >= 0) {
      offset_ += static_cast<uint64_t>(got);
      return static_cast<size_t>(got);
    }
    if (errno != EINTR) throw ErrnoError("cannot read", path_.string());
  }
}

RandomAccessFile::RandomAccessFile(const fs::path& path)
    : path_(path), fd_(OpenOrThrow(path, O_RDONLY)) {
  struct stat st;
  if (::fstat(fd_, &st) != 0) {
    ::close(fd_);
    throw ErrnoError("cannot stat", path.string());
  }
  size_ = static_cast<uint64_t>(st.st_size);
}

RandomAccessFile::~RandomAccessFile() { ::close(fd_); }

void RandomAccessFile::ReadAt(uint64_t offset, uint8_t* buf, size_t n) const {
  while (n > 0) {
    ssize_t got = ::pread(fd_, buf, n, static_cast<off_t>(offset));
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) throw ErrnoError("cannot read", path_.string());
    if (got == 0) throw Corruption("unexpected end of ", path_.string());
    buf += got;
    n -= static_cast<size_t>(got);
    offset += static_cast<uint64_t>(got);
  }
}

AtomicFile::AtomicFile(const fs::path& path)
    : path_(path),
      temp_(path.parent_path() / ("." + path.filename().string() + ".tmp-" + RandomSuffix())),
      fd_(CreateTemp(temp_, path)) {}

AtomicFile::~AtomicFile() {
  if (fd_ >= 0) ::close(fd_);
  if (!committed_) ::unlink(temp_.c_str());
}

void AtomicFile::Write(const uint8_t* data, size_t n) {
  while (n > 0) {
    ssize_t put = ::write(fd_, data, n);
    if (put < 0 && errno == EINTR) continue;
    if (put < 0) throw ErrnoError("cannot write", temp_.string());
    data += put;
    n -= static_cast<size_t>(put);
    written_ += static_cast<uint64_t>(put);
  }
}

void AtomicFile::Commit() {
  if (::fsync(fd_) != 0) throw ErrnoError("cannot sync", temp_.string());
  if (::close(fd_) != 0) {
    fd_ = -1;
    throw ErrnoError("cannot close", temp_.string());
  }
  fd_ = -1;
  if (::rename(temp_.c_str(), path_.c_str()) != 0) throw ErrnoError("cannot rename into", path_.string());
  committed_ = true;
  SyncDirectory(path_.parent_path().empty() ? fs::path(".") : path_.parent_path());
}

uint64_t FileSize(const fs::path& path) {
  std::error_code ec;
  uint64_t size = fs::file_size(path, ec);
  if (ec == std::errc::no_such_file_or_directory) throw NotFound("no such file: ", path.string());
  if (ec) throw IOError("cannot read the size of ", path.string(), ": ", ec.message());
  return size;
}

std::string ReadFileToString(const fs::path& path, size_t limit) {
  FileReader r(path);
  try {
    return ReadAll(r, limit);
  } catch (const Error& e) {
    throw Error(e.kind(), path.string() + ": " + e.what());
  }
}

void WriteFileAtomic(const fs::path& path, std::string_view data) {
  AtomicFile f(path);
  f.Write(data);
  f.Commit();
}

void SyncDirectory(const fs::path& dir) { Sync(dir, O_DIRECTORY, "cannot sync directory"); }

void SyncFile(const fs::path& file) { Sync(file, 0, "cannot sync"); }

TempDir::TempDir(const fs::path& parent, std::string_view prefix) {
  std::string templ = (parent / (std::string(prefix) + "XXXXXX")).string();
  if (::mkdtemp(templ.data()) == nullptr) throw ErrnoError("cannot create temp dir in", parent.string());
  path_ = templ;
}

TempDir::~TempDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

}  // namespace outpost
