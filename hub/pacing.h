// The arithmetic of windows and rate caps for one head or payload response (docs/protocol.md,
// "Byte accounting, windows and rates"). Pure functions: the server feeds them the clock.
#pragma once

#include <chrono>
#include <cstdint>

namespace outpost::hub {

// The bytes of one paced write at `rate` bytes per second: a twentieth of a second's worth,
// at least 1 KiB and at most 64 KiB (64 KiB when unlimited).
uint64_t SliceBytes(uint64_t rate);

// A token bucket's burst at `rate`: one second's worth, at least 16 KiB, so the gap of one
// round trip between two requests is made up.
uint64_t BurstBytes(uint64_t rate);

// The payload bytes one response may carry: at most `asked`, at most kMaxSliceTime of link
// time at `rate`, and no more than `rate` fits into `until_change` (real time until the window
// closes or its rate changes). Unlimited rate: `asked`. 0 when not even one byte fits.
uint64_t GrantBytes(uint64_t asked, uint64_t rate, std::chrono::milliseconds until_change);

// What a bundle of `bundle_bytes` costs on the link (hub to site) when sent at `rate` bytes
// per second without a cut: the bundle itself, the TLS 1.3 framing of every record the hub
// writes (a record per slice of SliceBytes(rate), at most 16 KiB each, kTlsRecordOverhead
// bytes each), the HTTP headers of the head and of each payload response (one per GrantBytes of
// kMaxSliceTime), and the short answers of the exchange (the work list announcing it, an ack
// per payload response, the result, the inventory after it). Not counted: TLS handshakes of new
// connections (after a cut), idle long polls, and retries. docs/protocol.md, "Bytes on the link".
uint64_t LinkBytes(uint64_t bundle_bytes, uint64_t rate);

// TLS 1.3 (AES-GCM or ChaCha20-Poly1305) adds to each record: a 5-byte header, the inner
// content type byte, a 16-byte tag.
inline constexpr uint64_t kTlsRecordOverhead = 22;

// The Retry-After of a 503: `real_wait` rounded up to whole seconds, between 1 and 86400.
uint64_t RetryAfterSeconds(std::chrono::milliseconds real_wait);

}  // namespace outpost::hub
