#include "common/async_io.h"

#include <algorithm>
#include <cstring>

#include "common/error.h"

namespace outpost {
namespace internal {

ChunkChannel::ChunkChannel(size_t chunks, size_t chunk_bytes) : chunk_bytes_(chunk_bytes), pool_(chunks) {
  for (Chunk& c : pool_) {
    c.data = std::make_unique<uint8_t[]>(chunk_bytes);
    free_.push_back(&c);
  }
}

ChunkChannel::Chunk* ChunkChannel::TakeFree() {
  std::unique_lock lock(mu_);
  cv_.wait(lock, [&] { return stopped_ || !free_.empty(); });
  if (stopped_) return nullptr;
  Chunk* c = free_.front();
  free_.pop_front();
  c->size = 0;
  return c;
}

void ChunkChannel::PushFull(Chunk* c) {
  {
    std::lock_guard lock(mu_);
    full_.push_back(c);
  }
  cv_.notify_all();
}

void ChunkChannel::Done(std::exception_ptr error) {
  {
    std::lock_guard lock(mu_);
    done_ = true;
    if (error_ == nullptr) error_ = std::move(error);
  }
  cv_.notify_all();
}

ChunkChannel::Chunk* ChunkChannel::TakeFull() {
  std::unique_lock lock(mu_);
  cv_.wait(lock, [&] { return stopped_ || done_ || !full_.empty(); });
  if (stopped_ || full_.empty()) return nullptr;
  Chunk* c = full_.front();
  full_.pop_front();
  return c;
}

void ChunkChannel::GiveBack(Chunk* c) {
  {
    std::lock_guard lock(mu_);
    free_.push_back(c);
  }
  cv_.notify_all();
}

void ChunkChannel::Stop(std::exception_ptr error) {
  {
    std::lock_guard lock(mu_);
    stopped_ = true;
    if (error_ == nullptr) error_ = std::move(error);
  }
  cv_.notify_all();
}

std::exception_ptr ChunkChannel::error() {
  std::lock_guard lock(mu_);
  return error_;
}

}  // namespace internal

namespace {

// Fills a channel's chunks with what is written, in order. Throws once the consumer has stopped.
class ChannelWriter : public Writer {
 public:
  explicit ChannelWriter(internal::ChunkChannel& channel) : channel_(channel) {}
  using Writer::Write;
  void Write(const uint8_t* data, size_t n) override {
    while (n > 0) {
      if (current_ == nullptr) {
        current_ = channel_.TakeFree();
        if (current_ == nullptr) throw IOError("the reader of this stream stopped");
        current_->size = 0;
      }
      size_t take = std::min(n, channel_.chunk_bytes() - current_->size);
      std::memcpy(current_->data.get() + current_->size, data, take);
      current_->size += take;
      data += take;
      n -= take;
      if (current_->size == channel_.chunk_bytes()) Flush();
    }
  }
  // Hands over the chunk being filled, if it holds anything.
  void Flush() {
    if (current_ != nullptr && current_->size > 0) channel_.PushFull(current_);
    current_ = nullptr;
  }

 private:
  internal::ChunkChannel& channel_;
  internal::ChunkChannel::Chunk* current_ = nullptr;
};

}  // namespace

ReadAheadReader::ReadAheadReader(Reader& inner, Observer observe, size_t chunks, size_t chunk_bytes)
    : channel_(chunks, chunk_bytes), thread_([this, &inner, observe = std::move(observe)] { Produce(inner, observe); }) {}

ReadAheadReader::ReadAheadReader(std::function<void(Writer&)> produce, size_t chunks, size_t chunk_bytes)
    : channel_(chunks, chunk_bytes), thread_([this, produce = std::move(produce)] { ProduceFrom(produce); }) {}

ReadAheadReader::~ReadAheadReader() {
  channel_.Stop(nullptr);
  thread_.join();
}

void ReadAheadReader::Produce(Reader& inner, const Observer& observe) {
  try {
    while (auto* c = channel_.TakeFree()) {
      c->size = inner.Read(c->data.get(), channel_.chunk_bytes());
      if (c->size == 0) break;
      if (observe) observe(c->data.get(), c->size);
      channel_.PushFull(c);
    }
    channel_.Done();
  } catch (...) {
    channel_.Done(std::current_exception());
  }
}

void ReadAheadReader::ProduceFrom(const std::function<void(Writer&)>& produce) {
  ChannelWriter w(channel_);
  std::exception_ptr error;
  try {
    produce(w);
  } catch (...) {
    error = std::current_exception();
  }
  w.Flush();  // the bytes written before an error come first
  channel_.Done(error);
}

bool ReadAheadReader::Refill() {
  if (current_ != nullptr && pos_ < current_->size) return true;
  if (current_ != nullptr) channel_.GiveBack(current_);
  current_ = channel_.TakeFull();
  pos_ = 0;
  if (current_ != nullptr) return true;
  if (std::exception_ptr e = channel_.error()) std::rethrow_exception(e);
  return false;
}

std::span<const uint8_t> ReadAheadReader::ReadView() {
  if (!Refill()) return {};
  std::span<const uint8_t> view(current_->data.get() + pos_, current_->size - pos_);
  pos_ = current_->size;
  return view;
}

size_t ReadAheadReader::Read(uint8_t* buf, size_t n) {
  if (n == 0 || !Refill()) return 0;
  size_t take = std::min(n, current_->size - pos_);
  std::memcpy(buf, current_->data.get() + pos_, take);
  pos_ += take;
  return take;
}

WriteBehindWriter::WriteBehindWriter(Writer& inner, size_t chunks, size_t chunk_bytes)
    : channel_(chunks, chunk_bytes), thread_([this, &inner] { Consume(inner); }) {}

WriteBehindWriter::~WriteBehindWriter() {
  if (!thread_.joinable()) return;
  channel_.Stop(nullptr);
  thread_.join();
}

void WriteBehindWriter::Consume(Writer& inner) {
  try {
    while (auto* c = channel_.TakeFull()) {
      inner.Write(c->data.get(), c->size);
      channel_.GiveBack(c);
    }
  } catch (...) {
    channel_.Stop(std::current_exception());
  }
}

void WriteBehindWriter::Rethrow() {
  if (std::exception_ptr e = channel_.error()) std::rethrow_exception(e);
  throw IOError("write-behind writer used after it stopped");
}

void WriteBehindWriter::Write(const uint8_t* data, size_t n) {
  while (n > 0) {
    if (current_ == nullptr && (current_ = channel_.TakeFree()) == nullptr) Rethrow();
    size_t take = std::min(n, channel_.chunk_bytes() - current_->size);
    std::memcpy(current_->data.get() + current_->size, data, take);
    current_->size += take;
    data += take;
    n -= take;
    if (current_->size == channel_.chunk_bytes()) {
      channel_.PushFull(current_);
      current_ = nullptr;
    }
  }
}

void WriteBehindWriter::Finish() {
  if (current_ != nullptr && current_->size > 0) channel_.PushFull(current_);
  current_ = nullptr;
  channel_.Done();
  thread_.join();
  if (channel_.error() != nullptr) Rethrow();
}

}  // namespace outpost
