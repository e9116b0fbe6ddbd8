// A transfer's spool: STATE_DIR/spool/<id>.bundle, the bundle file's bytes in order (head, then
// payload), so a complete spool IS the bundle file. No network here: the fetcher feeds it the
// bytes of each response, and it keeps the durability and verification rules:
//   - every `checkpoint_bytes` (and whenever the caller says a response ended or broke) the file
//     is fdatasync'd, THEN the durable offset is persisted: the persisted offset never claims
//     bytes the disk may not have;
//   - on open the file is cut back to the persisted offset (to 0 while the head is incomplete:
//     a head is always fetched whole);
//   - once the head is complete it is parsed (and its signature checked) from one copy;
//   - each payload chunk is read back and checked against the head's table as soon as it is
//     complete; a bad one is cut off (persisted offset first, then the file) so only it is
//     fetched again.
// Not thread-safe.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "protocol/bundle_head.h"
#include "protocol/signing.h"

namespace outpost::agent {

class Spool {
 public:
  // Where the transfer's bytes go and how to check them.
  struct Options {
    std::filesystem::path path;
    std::string what;                  // names the transfer in messages ("transfer 7 (sha256:..)")
    uint64_t head_bytes = 0;           // as the work list says
    uint64_t file_bytes = 0;
    const protocol::SigningKey* verify_key = nullptr;
    uint64_t checkpoint_bytes = 64 * 1024;
    std::function<void(uint64_t)> persist_durable;  // records a durable file offset
  };

  // Opens (creating) the spool and cuts it back to `durable` (or to 0 when that is short of the
  // head). With the head durable, parses it again. Throws IOError, and Parse's errors.
  Spool(Options options, uint64_t durable);
  ~Spool();
  Spool(const Spool&) = delete;
  Spool& operator=(const Spool&) = delete;

  // File offset of the next byte to write.
  uint64_t size() const { return size_; }
  uint64_t durable() const { return durable_; }
  bool head_complete() const { return head_.has_value(); }
  bool complete() const { return size_ == options_.file_bytes; }
  // Payload bytes durable: what an ack reports (0 while the head is incomplete).
  uint64_t durable_payload() const { return durable_ > options_.head_bytes ? durable_ - options_.head_bytes : 0; }
  // The parsed head (head_complete() only).
  const protocol::BundleHead& head() const { return *head_; }

  struct AppendResult {
    bool checkpoint_due = false;        // checkpoint_bytes written since the last Checkpoint
    std::optional<size_t> bad_chunk;    // this chunk failed its check and was cut off: stop
                                        // reading this response and ask again from size()
  };
  // Appends `data`, which belongs at size() and must not reach past file_bytes (Corruption:
  // the hub sent more than it announced). Completing the head parses it (Security / Corruption
  // / Unsupported from BundleHead::Parse, or Corruption when its size disagrees with the work
  // list). Bytes after a bad chunk in `data` are dropped.
  AppendResult Append(std::string_view data);

  // fdatasync, then persist_durable(size()). Cheap when nothing was written since the last one.
  void Checkpoint();

 private:
  void Write(std::string_view data);
  void Truncate(uint64_t size);
  void ParseHead();
  // Checks every chunk complete in the file; on a bad one cuts back to its start.
  std::optional<size_t> VerifyCompleteChunks();
  std::string ReadBack(uint64_t offset, size_t n) const;

  Options options_;
  int fd_ = -1;
  uint64_t size_ = 0;
  uint64_t durable_ = 0;
  uint64_t since_checkpoint_ = 0;
  std::optional<protocol::BundleHead> head_;
  size_t next_chunk_ = 0;  // the first chunk not yet checked
};

}  // namespace outpost::agent
