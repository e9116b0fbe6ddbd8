// Drives librsync jobs over outpost's streams (signature, delta and patch), so the rest of the
// delta engine never sees librsync's buffer protocol.
#pragma once

#include <librsync.h>

#include <memory>
#include <string>
#include <string_view>

#include "common/io.h"

namespace outpost::delta {

struct RsyncJobFree {
  void operator()(rs_job_t* job) const { rs_job_free(job); }
};
using RsyncJob = std::unique_ptr<rs_job_t, RsyncJobFree>;

struct RsyncSignatureFree {
  void operator()(rs_signature_t* sig) const { rs_free_sumset(sig); }
};
using RsyncSignature = std::unique_ptr<rs_signature_t, RsyncSignatureFree>;

// Feeds all of `in` to `job` and writes its output to `out` until the job is done. Throws
// Corruption naming `what` if librsync fails.
void RunRsyncJob(rs_job_t* job, outpost::Reader& in, Writer& out, std::string_view what);

// The librsync block signature of `content` (recommended block length, shortest strong sum).
std::string RsyncSign(outpost::Reader& content, uint64_t size);

// Loads a signature made by RsyncSign, with its hash table built for delta jobs.
RsyncSignature RsyncLoad(std::string_view signature);

// A librsync delta of `target` against the file `signature` describes.
std::string RsyncDelta(rs_signature_t* signature, std::string_view target);

}  // namespace outpost::delta
