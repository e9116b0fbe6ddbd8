// One direction of one forwarded connection.
#pragma once

#include <utility>  // before Asio: Boost 1.74's awaitable.hpp uses std::exchange without it

#include <boost/asio.hpp>

#include <deque>
#include <string>
#include <vector>

#include "tests/linksim/link_state.h"

namespace outpost::linksim {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

// Reads `from` and writes the bytes to `to`, shaped. Each read is queued stamped with its
// release time (read time + latency); the head of the queue is written, in slices the
// direction's token bucket allows, once released. During a black hole it neither reads nor
// writes (reads wait for readiness first and read only when allowed, so TCP backpressure holds
// the bytes in the kernel). Reading also pauses while kMaxQueued bytes are queued. On the down
// direction every write also obeys the DownFaults: it stops at a cut boundary (and then cuts the
// connection) and may carry the corrupted byte.
//
// Owned by its Connection, which must outlive every pending handler: the handlers hold the
// connection through `keep_alive`. After EOF on `from` and the queue drained, `to` is shut down
// for sending and Connection::OnPumpDone is called.
class Pump {
 public:
  enum class Direction { kDown, kUp };
  static constexpr size_t kMaxQueued = 4 << 20;

  Pump(Connection& owner, LinkState& link, Direction direction, tcp::socket& from, tcp::socket& to);

  // Starts forwarding; `early` are bytes already read from `from` (after a CONNECT head).
  void Start(std::string early);
  // Cancels the timers (the connection is closing; the sockets' own waits end with them).
  void Stop();
  // EOF was read and every byte written; `to` has been shut down for sending.
  bool done() const { return done_; }

 private:
  struct Chunk {
    Clock::time_point release;
    std::string bytes;
    size_t sent = 0;
  };

  void WaitReadable();
  void Read();
  void Push(std::string bytes, Clock::time_point now);
  // Writes as much as may be written now, then arranges to run again when more may be.
  void Write();
  // Writes up to `n` bytes of `chunk` (after the faults); false when the connection was closed.
  bool WriteSlice(Chunk& chunk, size_t n);
  void FinishIfDrained();
  void WriteAt(Clock::time_point when);
  void WriteWhenWritable();
  TokenBucket& bucket();
  bool down() const { return direction_ == Direction::kDown; }

  Connection& owner_;
  LinkState& link_;
  Direction direction_;
  tcp::socket& from_;
  tcp::socket& to_;
  asio::steady_timer read_timer_;
  asio::steady_timer write_timer_;
  std::vector<char> buffer_;
  std::deque<Chunk> queue_;
  size_t queued_ = 0;
  bool reading_ = false;  // a read-side wait is pending
  bool writing_ = false;  // a write-side wait is pending
  bool eof_ = false;
  bool done_ = false;
};

}  // namespace outpost::linksim
