#include "delta/rsync_job.h"

#include "common/error.h"

namespace outpost::delta {

void RunRsyncJob(rs_job_t* job, outpost::Reader& in, Writer& out, std::string_view what) {
  constexpr size_t kBufferBytes = 64 << 10;
  std::string inbuf(kBufferBytes, '\0'), outbuf(kBufferBytes, '\0');
  rs_buffers_t b{};
  for (;;) {
    if (b.avail_in == 0 && b.eof_in == 0) {
      size_t got = in.Read(reinterpret_cast<uint8_t*>(inbuf.data()), inbuf.size());
      b.next_in = inbuf.data();
      b.avail_in = got;
      b.eof_in = got == 0 ? 1 : 0;
    }
    b.next_out = outbuf.data();
    b.avail_out = outbuf.size();
    rs_result r = rs_job_iter(job, &b);
    out.Write(reinterpret_cast<const uint8_t*>(outbuf.data()), outbuf.size() - b.avail_out);
    if (r == RS_DONE) return;
    if (r != RS_BLOCKED) throw Corruption(what, ": librsync: ", rs_strerror(r));
  }
}

std::string RsyncSign(outpost::Reader& content, uint64_t size) {
  rs_magic_number magic = RS_RK_BLAKE2_SIG_MAGIC;
  size_t block_len = 0, strong_len = static_cast<size_t>(-1);
  rs_result r = rs_sig_args(static_cast<rs_long_t>(size), &magic, &block_len, &strong_len);
  if (r != RS_DONE) throw Corruption("librsync rejected signature arguments: ", rs_strerror(r));
  RsyncJob job(rs_sig_begin(block_len, strong_len, magic));
  StringWriter out;
  RunRsyncJob(job.get(), content, out, "signature");
  return std::move(out.str());
}

RsyncSignature RsyncLoad(std::string_view signature) {
  rs_signature_t* raw = nullptr;
  {
    RsyncJob job(rs_loadsig_begin(&raw));
    StringReader in{std::string(signature)};
    NullWriter sink;
    try {
      RunRsyncJob(job.get(), in, sink, "signature");
    } catch (...) {
      if (raw != nullptr) rs_free_sumset(raw);
      throw;
    }
  }
  RsyncSignature sig(raw);
  rs_result r = rs_build_hash_table(sig.get());
  if (r != RS_DONE) throw Corruption("signature: librsync: ", rs_strerror(r));
  return sig;
}

std::string RsyncDelta(rs_signature_t* signature, std::string_view target) {
  RsyncJob job(rs_delta_begin(signature));
  StringReader in{std::string(target)};
  StringWriter out;
  RunRsyncJob(job.get(), in, out, "rsync delta");
  return std::move(out.str());
}

}  // namespace outpost::delta
