// Read-ahead and write-behind: run a stream's I/O (and whatever its Reader/Writer computes on the
// way, e.g. a checksum or a sha256) on a second thread, so it overlaps the caller's CPU work
// (compression). Memory is bounded: chunks x chunk_bytes per object, allocated up front.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <thread>
#include <vector>

#include "common/io.h"

namespace outpost {

namespace internal {

// A fixed pool of byte chunks passed between one producer thread and one consumer thread:
// the producer fills free chunks and pushes them full, the consumer takes them in order and
// gives them back. Either side may stop the exchange (on an error or when it goes away).
class ChunkChannel {
 public:
  struct Chunk {
    std::unique_ptr<uint8_t[]> data;
    size_t size = 0;
  };
  ChunkChannel(size_t chunks, size_t chunk_bytes);

  size_t chunk_bytes() const { return chunk_bytes_; }
  // Producer: an empty chunk to fill; blocks while none is free; nullptr once stopped.
  Chunk* TakeFree();
  void PushFull(Chunk* c);
  // Producer: no more chunks will come; `error`, if set, is what ended the stream: the consumer
  // sees it (error()) after the chunks pushed before.
  void Done(std::exception_ptr error = nullptr);
  // Consumer: the next full chunk in order; blocks while none is ready; nullptr after Done() and
  // the last chunk, or once stopped.
  Chunk* TakeFull();
  void GiveBack(Chunk* c);
  // Either side: wakes and ends both sides at once; keeps the first non-null `error`.
  void Stop(std::exception_ptr error);
  std::exception_ptr error();

 private:
  size_t chunk_bytes_;
  std::vector<Chunk> pool_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Chunk*> free_, full_;
  bool done_ = false;
  bool stopped_ = false;
  std::exception_ptr error_;
};

}  // namespace internal

// Reads `inner` (which must outlive it and is used only by its thread until destruction) on a
// background thread, up to `chunks` chunks ahead of the caller. `observe`, if set, sees every
// chunk of input in order on the background thread before the caller does (e.g. a CRC32).
// Errors of `inner` are rethrown by Read/ReadView, after the bytes read before them.
class ReadAheadReader : public Reader {
 public:
  using Observer = std::function<void(const uint8_t* data, size_t n)>;
  explicit ReadAheadReader(Reader& inner, Observer observe = {}, size_t chunks = 4, size_t chunk_bytes = 512 << 10);
  // Reads what `produce` writes into the Writer it is given, run on the background thread (e.g.
  // a delta applied straight into a compressor, no scratch file between). What `produce` throws
  // is rethrown by Read after the bytes written before it. If this reader goes away first, the
  // producer's next Write throws and its thread ends.
  explicit ReadAheadReader(std::function<void(Writer&)> produce, size_t chunks = 4, size_t chunk_bytes = 512 << 10);
  // Stops the background thread and waits for its current read to return.
  ~ReadAheadReader() override;
  ReadAheadReader(const ReadAheadReader&) = delete;
  ReadAheadReader& operator=(const ReadAheadReader&) = delete;

  size_t Read(uint8_t* buf, size_t n) override;
  // The next bytes without a copy, valid until the next Read/ReadView; empty only at the end.
  std::span<const uint8_t> ReadView();

 private:
  void Produce(Reader& inner, const Observer& observe);
  void ProduceFrom(const std::function<void(Writer&)>& produce);
  bool Refill();

  internal::ChunkChannel channel_;
  internal::ChunkChannel::Chunk* current_ = nullptr;
  size_t pos_ = 0;
  std::thread thread_;
};

// Writes to `inner` (which must outlive it and is used only by its thread until Finish) on a
// background thread, up to `chunks` chunks behind the caller. An error of `inner` is rethrown
// by a later Write or by Finish. Destroying it without Finish() abandons the unwritten bytes.
class WriteBehindWriter : public Writer {
 public:
  explicit WriteBehindWriter(Writer& inner, size_t chunks = 4, size_t chunk_bytes = 512 << 10);
  ~WriteBehindWriter() override;
  WriteBehindWriter(const WriteBehindWriter&) = delete;
  WriteBehindWriter& operator=(const WriteBehindWriter&) = delete;

  using Writer::Write;
  void Write(const uint8_t* data, size_t n) override;
  // Writes what is buffered and waits until `inner` has it all; throws the first error of
  // `inner`. Call once, after the last Write.
  void Finish();

 private:
  void Consume(Writer& inner);
  [[noreturn]] void Rethrow();

  internal::ChunkChannel channel_;
  internal::ChunkChannel::Chunk* current_ = nullptr;
  std::thread thread_;
};

}  // namespace outpost
