#include "agent/spool.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <spdlog/spdlog.h>

#include <algorithm>

#include "common/error.h"

namespace outpost::agent {

Spool::Spool(Options options, uint64_t durable) : options_(std::move(options)) {
  fd_ = ::open(options_.path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd_ < 0) throw ErrnoError("cannot open spool", options_.path.string());
  struct stat st {};
  if (::fstat(fd_, &st) != 0) throw ErrnoError("cannot stat spool", options_.path.string());
  // A spool shorter than the row says (lost, replaced) keeps only what it holds.
  uint64_t keep = std::min({durable, options_.file_bytes, static_cast<uint64_t>(st.st_size)});
  if (keep < options_.head_bytes) keep = 0;
  if (keep != durable) options_.persist_durable(keep);  // the row first, then the file
  Truncate(keep);
  durable_ = keep;
  if (keep > 0 && keep >= options_.head_bytes) ParseHead();
}

Spool::~Spool() {
  if (fd_ >= 0) ::close(fd_);
}

void Spool::Truncate(uint64_t size) {
  if (::ftruncate(fd_, static_cast<off_t>(size)) != 0) throw ErrnoError("cannot truncate spool", options_.path.string());
  size_ = size;
}

void Spool::Write(std::string_view data) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::pwrite(fd_, data.data() + done, data.size() - done, static_cast<off_t>(size_ + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      throw ErrnoError("cannot write spool", options_.path.string());
    }
    done += static_cast<size_t>(n);
  }
  size_ += data.size();
  since_checkpoint_ += data.size();
}

std::string Spool::ReadBack(uint64_t offset, size_t n) const {
  std::string out(n, '\0');
  size_t done = 0;
  while (done < n) {
    ssize_t r = ::pread(fd_, out.data() + done, n - done, static_cast<off_t>(offset + done));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) throw ErrnoError("cannot read back spool", options_.path.string());
    done += static_cast<size_t>(r);
  }
  return out;
}

void Spool::ParseHead() {
  head_.emplace(protocol::BundleHead::Parse(ReadBack(0, options_.head_bytes), options_.what, options_.verify_key));
  if (head_->file_bytes() != options_.file_bytes) {
    uint64_t says = head_->file_bytes();
    head_.reset();
    throw Corruption(options_.what, ": the head says the bundle is ", std::to_string(says),
                     " bytes; the hub's work list says ", std::to_string(options_.file_bytes));
  }
  uint64_t payload = size_ - options_.head_bytes;
  next_chunk_ = payload >= head_->header().payload_bytes ? head_->chunks().size() : head_->ChunkAt(payload);
}

Spool::AppendResult Spool::Append(std::string_view data) {
  if (data.size() > options_.file_bytes - size_) {
    throw Corruption(options_.what, ": the hub sent bytes past the end of the bundle (", std::to_string(options_.file_bytes),
                     " bytes)");
  }
  AppendResult result;
  if (!head_complete()) {
    size_t take = std::min<uint64_t>(data.size(), options_.head_bytes - size_);
    Write(data.substr(0, take));
    data.remove_prefix(take);
    if (size_ == options_.head_bytes) ParseHead();
  }
  if (!data.empty()) {
    Write(data);
    result.bad_chunk = VerifyCompleteChunks();
  }
  result.checkpoint_due = since_checkpoint_ >= options_.checkpoint_bytes;
  return result;
}

std::optional<size_t> Spool::VerifyCompleteChunks() {
  const uint64_t payload = size_ - options_.head_bytes;
  while (next_chunk_ < head_->chunks().size()) {
    const uint64_t start = head_->ChunkOffset(next_chunk_);
    const uint32_t length = head_->chunks()[next_chunk_].length;
    if (payload < start + length) break;
    try {
      head_->VerifyChunk(next_chunk_, ReadBack(options_.head_bytes + start, length));
    } catch (const Error& e) {
      if (e.kind() != Error::Kind::kCorruption) throw;
      spdlog::warn("{}; chunk {} refused, fetching it again from payload offset {}", e.what(), next_chunk_, start);
      const uint64_t cut = options_.head_bytes + start;
      if (durable_ > cut) {  // the row first: it must never claim more than the file holds
        options_.persist_durable(cut);
        durable_ = cut;
      }
      Truncate(cut);
      since_checkpoint_ = 0;
      return next_chunk_;
    }
    ++next_chunk_;
  }
  return std::nullopt;
}

void Spool::Checkpoint() {
  if (size_ == durable_) return;
  if (::fdatasync(fd_) != 0) throw ErrnoError("cannot sync spool", options_.path.string());
  options_.persist_durable(size_);
  durable_ = size_;
  since_checkpoint_ = 0;
}

}  // namespace outpost::agent
