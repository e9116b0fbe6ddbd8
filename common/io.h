// Streaming byte I/O: the interfaces every stage of the pipeline reads and writes through, so
// that layers of any size flow in constant memory.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "common/digest.h"

namespace outpost {

// A source of bytes read front to back.
class Reader {
 public:
  virtual ~Reader() = default;
  // Reads up to `n` bytes into `buf` and returns how many were read; returns 0 only at the end of
  // the stream (a short read is not the end). Throws Error on failure.
  virtual size_t Read(uint8_t* buf, size_t n) = 0;
};

// A sink of bytes.
class Writer {
 public:
  virtual ~Writer() = default;
  // Writes all `n` bytes or throws Error.
  virtual void Write(const uint8_t* data, size_t n) = 0;
  void Write(std::string_view s) { Write(reinterpret_cast<const uint8_t*>(s.data()), s.size()); }
};

// Bytes that can be read at any offset (a base layer the delta applier copies from).
class RandomAccess {
 public:
  virtual ~RandomAccess() = default;
  // Reads exactly `n` bytes at `offset` into `buf`; throws Corruption if the source is shorter.
  virtual void ReadAt(uint64_t offset, uint8_t* buf, size_t n) const = 0;
  virtual uint64_t size() const = 0;
};

// Reads exactly `n` bytes or throws Corruption("unexpected end of <what>").
void ReadFull(Reader& r, uint8_t* buf, size_t n, std::string_view what);
// Reads up to `n` bytes, fewer only at end of stream; returns the count.
size_t ReadUpTo(Reader& r, uint8_t* buf, size_t n);
// Copies `r` to `w` until the end of `r`; returns the byte count.
uint64_t Copy(Reader& r, Writer& w);
// Reads the rest of `r` into a string (for small things: manifests, configs).
// Throws Corruption naming `what` (the document: "config blob DIR/blobs/sha256/...") if it
// exceeds `limit` bytes, before reading more than `limit` + 64 KiB.
std::string ReadAll(Reader& r, size_t limit = 64 << 20, std::string_view what = "document");

// Reads a string in memory.
class StringReader : public Reader {
 public:
  explicit StringReader(std::string data) : data_(std::move(data)) {}
  size_t Read(uint8_t* buf, size_t n) override;

 private:
  std::string data_;
  size_t pos_ = 0;
};

// Appends to a string in memory.
class StringWriter : public Writer {
 public:
  using Writer::Write;
  void Write(const uint8_t* data, size_t n) override;
  std::string& str() { return data_; }

 private:
  std::string data_;
};

// Discards bytes, counting them.
class NullWriter : public Writer {
 public:
  using Writer::Write;
  void Write(const uint8_t*, size_t n) override { count_ += n; }
  uint64_t count() const { return count_; }

 private:
  uint64_t count_ = 0;
};

// Passes bytes through to `inner` (if any) while computing their sha256 and count.
class HashingWriter : public Writer {
 public:
  explicit HashingWriter(Writer* inner = nullptr) : inner_(inner) {}
  using Writer::Write;
  void Write(const uint8_t* data, size_t n) override;
  uint64_t count() const { return count_; }
  Digest Finish() { return sha_.Finish(); }

 private:
  Writer* inner_;
  Sha256 sha_;
  uint64_t count_ = 0;
};

// Reads from `inner` while computing the sha256 and count of what passed.
class HashingReader : public Reader {
 public:
  explicit HashingReader(Reader& inner) : inner_(inner) {}
  size_t Read(uint8_t* buf, size_t n) override;
  uint64_t count() const { return count_; }
  Digest Finish() { return sha_.Finish(); }

 private:
  Reader& inner_;
  Sha256 sha_;
  uint64_t count_ = 0;
};

// Forwards to a Reader it does not own (to hand a borrowed Reader to an owning wrapper).
class ReaderRef : public Reader {
 public:
  explicit ReaderRef(Reader& inner) : inner_(inner) {}
  size_t Read(uint8_t* buf, size_t n) override { return inner_.Read(buf, n); }

 private:
  Reader& inner_;
};

// Reads at most `limit` bytes of `inner`, then reports end of stream.
class LimitedReader : public Reader {
 public:
  LimitedReader(Reader& inner, uint64_t limit) : inner_(inner), left_(limit) {}
  size_t Read(uint8_t* buf, size_t n) override;
  uint64_t left() const { return left_; }

 private:
  Reader& inner_;
  uint64_t left_;
};

// Reads a window [offset, offset+length) of a RandomAccess front to back.
class RandomAccessReader : public Reader {
 public:
  RandomAccessReader(const RandomAccess& src, uint64_t offset, uint64_t length)
      : src_(src), pos_(offset), end_(offset + length) {}
  size_t Read(uint8_t* buf, size_t n) override;

 private:
  const RandomAccess& src_;
  uint64_t pos_;
  uint64_t end_;
};

// The sha256 of every byte of `r`, read front to back. Throws what `r` throws.
Digest HashAll(const RandomAccess& r);

}  // namespace outpost
