#include "hub/pacing.h"

#include <algorithm>
#include <limits>

#include "link/http.h"
#include "link/schedule.h"

namespace outpost::hub {
namespace {

// rate * ms / 1000 without overflowing (saturates).
uint64_t BytesIn(uint64_t rate, std::chrono::milliseconds d) {
  if (d.count() <= 0) return 0;
  uint64_t ms = static_cast<uint64_t>(d.count());
  uint64_t whole = ms / 1000, rest = ms % 1000;
  constexpr uint64_t kMax = std::numeric_limits<uint64_t>::max();
  if (whole != 0 && rate > kMax / whole) return kMax;
  uint64_t bytes = rate * whole;
  uint64_t part = rate / 1000 * rest + rate % 1000 * rest / 1000;
  return bytes > kMax - part ? kMax : bytes + part;
}

// TLS records of at most 16 KiB for `bytes` written in writes of at most `slice` bytes.
uint64_t Records(uint64_t bytes, uint64_t slice) {
  constexpr uint64_t kMaxRecord = 16 * 1024;
  auto per_write = [](uint64_t n) { return (n + kMaxRecord - 1) / kMaxRecord; };
  return bytes / slice * per_write(slice) + per_write(bytes % slice);
}

// Measured with the link simulator (tests/link/watch_test.cc): the status line and headers of
// a head (200) or payload (206, with Content-Range) response; of a 204 answer (ack, result,
// inventory); and the work list that announces the transfer (its headers, the site and window,
// the transfer's entry).
constexpr uint64_t kFileHeaderBytes = 150;
constexpr uint64_t kShortAnswerBytes = 50;
constexpr uint64_t kWorkListBytes = 400;

}  // namespace

uint64_t LinkBytes(uint64_t bundle_bytes, uint64_t rate) {
  const uint64_t grant = GrantBytes(std::max<uint64_t>(bundle_bytes, 1), rate, std::chrono::hours(24));
  const uint64_t payload_responses = (bundle_bytes + grant - 1) / grant;
  const uint64_t file_responses = 1 + payload_responses;  // the head, then the payload
  const uint64_t short_answers = payload_responses + 2;    // acks, the result, the inventory
  const uint64_t records = Records(bundle_bytes, SliceBytes(rate)) + file_responses + short_answers + 1;
  return bundle_bytes + records * kTlsRecordOverhead + file_responses * kFileHeaderBytes +
         short_answers * kShortAnswerBytes + kWorkListBytes;
}

uint64_t SliceBytes(uint64_t rate) {
  if (rate == link::kUnlimitedRate) return 64 * 1024;
  return std::clamp<uint64_t>(rate / 20, 1024, 64 * 1024);
}

uint64_t BurstBytes(uint64_t rate) { return std::max<uint64_t>(rate, 16 * 1024); }

uint64_t GrantBytes(uint64_t asked, uint64_t rate, std::chrono::milliseconds until_change) {
  if (rate == link::kUnlimitedRate) return asked;
  uint64_t slice_cap = BytesIn(rate, std::chrono::duration_cast<std::chrono::milliseconds>(link::kMaxSliceTime));
  return std::min({asked, slice_cap, BytesIn(rate, until_change)});
}

uint64_t RetryAfterSeconds(std::chrono::milliseconds real_wait) {
  int64_t secs = (real_wait.count() + 999) / 1000;
  return static_cast<uint64_t>(std::clamp<int64_t>(secs, 1, 86400));
}

}  // namespace outpost::hub
