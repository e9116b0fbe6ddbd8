#include "storage/file_tree.h"

#include <map>
#include <vector>

#include "common/error.h"
#include "common/file.h"
#include "compress/decompress.h"
#include "tar/tar_reader.h"

namespace outpost::storage {
namespace {

constexpr int kMaxLinkHops = 16;  // a longer chain of links is a loop

// A gzip'ed archive may inflate to at most this many times its size: gzip cannot exceed about
// 1032:1, and an archive of images (mostly compressed layers, or tars of binaries) stays far
// below 256:1; a bomb of zeros is stopped at it instead of filling the disk.
constexpr uint64_t kMaxInflationRatio = 256;

// Passes `inner` through, throwing Corruption naming `what` once more than `limit` bytes came.
class CappedReader : public Reader {
 public:
  CappedReader(Reader& inner, uint64_t limit, std::string what) : inner_(inner), left_(limit), what_(std::move(what)) {}
  size_t Read(uint8_t* buf, size_t n) override {
    size_t got = inner_.Read(buf, n);
    if (got > left_) {
      throw Corruption(what_, ": inflates to more than ", std::to_string(kMaxInflationRatio),
                       " times its size; refusing it as a decompression bomb");
    }
    left_ -= got;
    return got;
  }

 private:
  Reader& inner_;
  uint64_t left_;
  std::string what_;
};

bool IsUnder(const fs::path& path, const fs::path& root) {
  auto [r, p] = std::mismatch(root.begin(), root.end(), path.begin(), path.end());
  return r == root.end();
}

class DirectoryTree : public FileTree {
 public:
  explicit DirectoryTree(const fs::path& dir) : dir_(dir) {
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) throw NotFound("no such directory: ", dir.string());
    root_ = fs::canonical(dir, ec);
    if (ec) throw IOError("cannot resolve ", dir.string(), ": ", ec.message());
  }
  std::string Describe() const override { return dir_.string(); }
  std::string DescribeMember(const std::string& name) const override { return (dir_ / name).string(); }

  std::optional<uint64_t> Size(const std::string& name) override {
    fs::path path = Resolve(name);
    std::error_code ec;
    if (!fs::is_regular_file(path, ec)) return std::nullopt;
    return FileSize(path);
  }

  std::unique_ptr<Reader> Open(const std::string& name, uint64_t offset) override {
    return std::make_unique<FileReader>(Resolve(name), offset);
  }

 private:
  // The real path of `name`, checked to stay inside the directory.
  fs::path Resolve(const std::string& name) const {
    if (!tar::IsSafePath(name)) throw SecurityError(DescribeMember(name), ": path leaves ", dir_.string());
    std::error_code ec;
    fs::path real = fs::weakly_canonical(dir_ / name, ec);
    if (ec == std::errc::too_many_symbolic_link_levels) {
      throw Corruption(DescribeMember(name), ": symlink loop (too many levels of symbolic links)");
    }
    if (ec) throw IOError(DescribeMember(name), ": cannot resolve: ", ec.message());
    if (!IsUnder(real, root_)) {
      throw SecurityError(DescribeMember(name), ": symlink points outside the layout ", dir_.string());
    }
    return real;
  }

  fs::path dir_;
  fs::path root_;
};

struct Member {
  char type;
  std::string linkname;
  uint64_t data_offset;
  uint64_t size;
};

// Lexically joins `base_dir` and a relative `link`; nullopt if the result leaves the archive.
std::optional<std::string> JoinInside(const std::string& base_dir, const std::string& link) {
  if (link.empty() || link.front() == '/') return std::nullopt;
  std::vector<std::string> parts;
  std::string joined = base_dir.empty() ? link : base_dir + "/" + link;
  size_t start = 0;
  while (start <= joined.size()) {
    size_t slash = joined.find('/', start);
    if (slash == std::string::npos) slash = joined.size();
    std::string part = joined.substr(start, slash - start);
    start = slash + 1;
    if (part.empty() || part == ".") continue;
    if (part == "..") {
      if (parts.empty()) return std::nullopt;
      parts.pop_back();
    } else {
      parts.push_back(part);
    }
  }
  std::string out;
  for (const std::string& p : parts) out += (out.empty() ? "" : "/") + p;
  return out;
}

std::string Normalize(std::string name) {
  while (name.starts_with("./")) name.erase(0, 2);
  while (!name.empty() && name.back() == '/') name.pop_back();
  return name;
}

// A member window of the archive file, owning a share of it.
class MemberReader : public Reader {
 public:
  MemberReader(std::shared_ptr<RandomAccessFile> file, uint64_t offset, uint64_t length)
      : file_(std::move(file)), window_(*file_, offset, length) {}
  size_t Read(uint8_t* buf, size_t n) override { return window_.Read(buf, n); }

 private:
  std::shared_ptr<RandomAccessFile> file_;
  RandomAccessReader window_;
};

class TarTree : public FileTree {
 public:
  explicit TarTree(const fs::path& file) : file_(file) {
    fs::path tar_path = MaybeInflate();
    Index(tar_path);
    data_ = std::make_shared<RandomAccessFile>(tar_path);
  }
  std::string Describe() const override { return file_.string(); }
  std::string DescribeMember(const std::string& name) const override { return file_.string() + ":" + name; }

  std::optional<uint64_t> Size(const std::string& name) override {
    const Member* m = Find(name);
    return m == nullptr ? std::nullopt : std::optional<uint64_t>(m->size);
  }

  std::unique_ptr<Reader> Open(const std::string& name, uint64_t offset) override {
    const Member* m = Find(name);
    if (m == nullptr) throw NotFound(DescribeMember(name), ": no such member");
    uint64_t skip = std::min(offset, m->size);
    return std::make_unique<MemberReader>(data_, m->data_offset + skip, m->size - skip);
  }

 private:
  // Inflates a gzip-compressed archive into a temp file; returns the path of the plain tar.
  fs::path MaybeInflate() {
    char magic[compress::kSniffBytes];
    FileReader probe(file_);
    size_t got = ReadUpTo(probe, reinterpret_cast<uint8_t*>(magic), sizeof magic);
    if (compress::SniffCompression(std::string_view(magic, got)) != compress::Compression::kGzip) return file_;
    temp_ = std::make_unique<TempDir>();
    fs::path plain = temp_->path() / "archive.tar";
    auto in = compress::OpenDecompressed(std::make_unique<FileReader>(file_), compress::Compression::kGzip,
                                         file_.string());
    CappedReader capped(*in, kMaxInflationRatio * FileSize(file_), file_.string());
    std::string head(tar::kBlockSize, '\0');
    head.resize(ReadUpTo(capped, reinterpret_cast<uint8_t*>(head.data()), head.size()));
    if (!tar::IsHeaderBlock(head)) throw Corruption(file_.string(), ": is gzip but does not hold a tar archive");
    AtomicFile out(plain);
    out.Write(head);
    Copy(capped, out);
    out.Commit();
    return plain;
  }

  void Index(const fs::path& tar_path) {
    FileReader in(tar_path);
    tar::Reader reader(in);
    tar::Entry e;
    try {
      while (reader.Next(&e)) Add(e);
      uint8_t buf[4096];
      while (reader.ReadTrailer(buf, sizeof(buf)) > 0) {
      }
    } catch (const Error& err) {
      if (err.kind() == Error::Kind::kSecurity) throw;
      throw Error(err.kind(), file_.string() + ": " + err.what());
    }
  }

  void Add(const tar::Entry& e) {
    if (!tar::IsSafeEntry(e)) {
      throw SecurityError(file_.string(), ": unsafe member name \"", e.name, "\" (absolute or with .., or a hard link to one)");
    }
    std::string name = Normalize(e.name);
    if (name.empty() || e.type == tar::kDirectory) return;
    members_[name] = Member{e.type, e.linkname, e.data_offset, e.size};
  }

  // Follows hard and symbolic links to a regular member; nullptr if there is none.
  const Member* Find(const std::string& raw_name) const {
    std::string name = Normalize(raw_name);
    for (int hop = 0; hop < kMaxLinkHops; ++hop) {
      auto it = members_.find(name);
      if (it == members_.end()) return nullptr;
      const Member& m = it->second;
      if (m.type == tar::kRegular || m.type == tar::kRegularOld) return &m;
      if (m.type != tar::kSymlink && m.type != tar::kHardLink) return nullptr;
      std::string dir = m.type == tar::kHardLink ? "" : name.substr(0, name.rfind('/') == std::string::npos ? 0 : name.rfind('/'));
      std::optional<std::string> target = JoinInside(dir, m.linkname);
      if (!target) {
        throw SecurityError(DescribeMember(name), ": link to \"", m.linkname, "\" points outside the archive");
      }
      name = *target;
    }
    throw Corruption(DescribeMember(raw_name), ": too many levels of links");
  }

  fs::path file_;
  std::unique_ptr<TempDir> temp_;
  std::map<std::string, Member> members_;
  std::shared_ptr<RandomAccessFile> data_;
};

}  // namespace

std::string FileTree::ReadSmall(const std::string& name, size_t limit) {
  auto reader = Open(name);
  return ReadAll(*reader, limit, DescribeMember(name));
}

std::unique_ptr<FileTree> OpenDirectoryTree(const fs::path& dir) { return std::make_unique<DirectoryTree>(dir); }

std::unique_ptr<FileTree> OpenTarTree(const fs::path& file) {
  std::error_code ec;
  if (!fs::exists(file, ec)) throw NotFound("no such file: ", file.string());
  if (fs::is_directory(file, ec)) throw InvalidArgument(file.string(), " is a directory, not an archive file");
  return std::make_unique<TarTree>(file);
}

}  // namespace outpost::storage
