#include "tests/linksim/pump.h"

#include <algorithm>
#include <cstdio>

#include "tests/linksim/connection.h"

namespace outpost::linksim {

Pump::Pump(Connection& owner, LinkState& link, Direction direction, tcp::socket& from, tcp::socket& to)
    : owner_(owner),
      link_(link),
      direction_(direction),
      from_(from),
      to_(to),
      read_timer_(from.get_executor()),
      write_timer_(from.get_executor()),
      buffer_(64 << 10) {}

void Pump::Start(std::string early) {
  if (!early.empty()) Push(std::move(early), Clock::now());
  WaitReadable();
}

void Pump::Stop() {
  read_timer_.cancel();
  write_timer_.cancel();
}

TokenBucket& Pump::bucket() { return down() ? link_.down : link_.up; }

void Pump::WaitReadable() {
  if (reading_ || eof_ || queued_ >= kMaxQueued || owner_.closed()) return;
  reading_ = true;
  from_.async_wait(tcp::socket::wait_read, [this, keep_alive = owner_.shared_from_this()](boost::system::error_code ec) {
    reading_ = false;
    if (!ec && !owner_.closed()) Read();
  });
}

void Pump::Read() {
  Clock::time_point now = Clock::now();
  if (auto until = link_.blackholes.Until(now)) {  // leave the bytes in the kernel
    reading_ = true;
    read_timer_.expires_at(*until);
    read_timer_.async_wait([this, keep_alive = owner_.shared_from_this()](boost::system::error_code ec) {
      reading_ = false;
      if (!ec && !owner_.closed()) WaitReadable();
    });
    return;
  }
  boost::system::error_code ec;
  size_t n = from_.read_some(asio::buffer(buffer_), ec);
  if (ec == asio::error::would_block) return WaitReadable();
  if (ec == asio::error::eof) {
    eof_ = true;
    if (!writing_) Write();
    return;
  }
  if (ec) return owner_.Close();
  Push(std::string(buffer_.data(), n), now);
  WaitReadable();
}

void Pump::Push(std::string bytes, Clock::time_point now) {
  queued_ += bytes.size();
  queue_.push_back({now + std::chrono::milliseconds(link_.options.latency_ms), std::move(bytes)});
  if (!writing_) Write();
}

void Pump::Write() {
  while (!owner_.closed()) {
    if (queue_.empty()) return FinishIfDrained();
    Clock::time_point now = Clock::now();
    if (auto until = link_.blackholes.Until(now)) return WriteAt(*until);
    Chunk& chunk = queue_.front();
    if (chunk.release > now) return WriteAt(chunk.release);
    uint64_t want = std::min<uint64_t>(chunk.bytes.size() - chunk.sent, bucket().slice());
    if (down()) want = link_.faults.Limit(link_.stats.bytes_down, want);
    Clock::duration wait = bucket().WaitFor(want, now);
    if (wait > Clock::duration::zero()) return WriteAt(now + wait);
    if (!WriteSlice(chunk, static_cast<size_t>(want))) return;
    if (chunk.sent == chunk.bytes.size()) queue_.pop_front();
    WaitReadable();  // the queue may have room again
  }
}

bool Pump::WriteSlice(Chunk& chunk, size_t n) {
  auto* data = reinterpret_cast<uint8_t*>(chunk.bytes.data() + chunk.sent);
  std::optional<size_t> flipped;
  if (down()) flipped = link_.faults.Corrupt(link_.stats.bytes_down, data, n);
  boost::system::error_code ec;
  size_t written = to_.write_some(asio::buffer(data, n), ec);
  if (down()) link_.faults.Settle(written, data, flipped);
  if (flipped && *flipped < written) {
    std::fprintf(stderr, "outpost-linksim: corrupted the down byte at offset %llu\n",
                 static_cast<unsigned long long>(link_.stats.bytes_down + *flipped));
  }
  if (ec == asio::error::would_block) {
    WriteWhenWritable();
    return false;
  }
  if (ec) {
    owner_.Close();
    return false;
  }
  bucket().Take(written);
  chunk.sent += written;
  queued_ -= written;
  if (!down()) {
    link_.stats.bytes_up += written;
    return true;
  }
  link_.stats.bytes_down += written;
  if (written == 0 || !link_.faults.CutAt(link_.stats.bytes_down)) return true;
  std::fprintf(stderr, "outpost-linksim: cut a connection at down offset %llu\n",
               static_cast<unsigned long long>(link_.stats.bytes_down));
  owner_.Cut();
  return false;
}

void Pump::FinishIfDrained() {
  if (!eof_ || done_) return;
  done_ = true;
  boost::system::error_code ignored;
  to_.shutdown(tcp::socket::shutdown_send, ignored);
  owner_.OnPumpDone();
}

void Pump::WriteAt(Clock::time_point when) {
  writing_ = true;
  write_timer_.expires_at(when);
  write_timer_.async_wait([this, keep_alive = owner_.shared_from_this()](boost::system::error_code ec) {
    writing_ = false;
    if (!ec && !owner_.closed()) Write();
  });
}

void Pump::WriteWhenWritable() {
  writing_ = true;
  to_.async_wait(tcp::socket::wait_write, [this, keep_alive = owner_.shared_from_this()](boost::system::error_code ec) {
    writing_ = false;
    if (!ec && !owner_.closed()) Write();
  });
}

}  // namespace outpost::linksim
