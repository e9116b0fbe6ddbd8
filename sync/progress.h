// Progress of long work, per layer: bytes done of total, and rate. The pipelines report; the CLI
// decides where it goes (a terminal line, or nowhere in scripts).
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>

#include "common/io.h"

namespace outpost::sync {

class Progress {
 public:
  virtual ~Progress() = default;
  // A new unit of work (`label`, e.g. "layer 2/5 sha256:abcd… tar-delta") of `total` bytes.
  virtual void Begin(const std::string& label, uint64_t total) = 0;
  // `n` more bytes of the current unit are done.
  virtual void Advance(uint64_t n) = 0;
  // The current unit is finished.
  virtual void End() = 0;
};

// Reports nothing.
class NullProgress : public Progress {
 public:
  void Begin(const std::string&, uint64_t) override {}
  void Advance(uint64_t) override {}
  void End() override {}
};

// One self-rewriting line on a terminal (`out`, usually stderr), at most ten updates a second.
class TerminalProgress : public Progress {
 public:
  explicit TerminalProgress(std::FILE* out) : out_(out) {}
  void Begin(const std::string& label, uint64_t total) override;
  void Advance(uint64_t n) override;
  void End() override;

 private:
  void Draw(bool final);
  std::FILE* out_;
  std::string label_;
  uint64_t total_ = 0;
  uint64_t done_ = 0;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_draw_;
};

// Passes reads through, reporting their byte count to `progress`.
class ProgressReader : public Reader {
 public:
  ProgressReader(Reader& inner, Progress& progress) : inner_(inner), progress_(progress) {}
  size_t Read(uint8_t* buf, size_t n) override {
    size_t got = inner_.Read(buf, n);
    progress_.Advance(got);
    return got;
  }

 private:
  Reader& inner_;
  Progress& progress_;
};

// Passes writes through, reporting their byte count to `progress`.
class ProgressWriter : public Writer {
 public:
  ProgressWriter(Writer& inner, Progress& progress) : inner_(inner), progress_(progress) {}
  using Writer::Write;
  void Write(const uint8_t* data, size_t n) override {
    inner_.Write(data, n);
    progress_.Advance(n);
  }

 private:
  Writer& inner_;
  Progress& progress_;
};

}  // namespace outpost::sync
