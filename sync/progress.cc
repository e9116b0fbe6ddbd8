#include "sync/progress.h"

#include "protocol/bundle_printer.h"

namespace outpost::sync {

void TerminalProgress::Begin(const std::string& label, uint64_t total) {
  label_ = label;
  total_ = total;
  done_ = 0;
  start_ = last_draw_ = std::chrono::steady_clock::now();
  Draw(false);
}

void TerminalProgress::Advance(uint64_t n) {
  done_ += n;
  auto now = std::chrono::steady_clock::now();
  if (now - last_draw_ >= std::chrono::milliseconds(100)) Draw(false);
}

void TerminalProgress::End() { Draw(true); }

void TerminalProgress::Draw(bool final) {
  last_draw_ = std::chrono::steady_clock::now();
  double seconds = std::chrono::duration<double>(last_draw_ - start_).count();
  uint64_t rate = seconds > 0 ? static_cast<uint64_t>(static_cast<double>(done_) / seconds) : 0;
  std::fprintf(out_, "\r\033[K%s  %s / %s  %s/s", label_.c_str(), protocol::HumanBytes(done_).c_str(),
               protocol::HumanBytes(total_).c_str(), protocol::HumanBytes(rate).c_str());
  if (final) std::fputc('\n', out_);
  std::fflush(out_);
}

}  // namespace outpost::sync
