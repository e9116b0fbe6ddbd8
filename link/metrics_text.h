// Prometheus text exposition format 0.0.4 (what `GET /metrics` of the hub and the agent answer,
// docs/metrics.md): a writer, a checker of every line (for tests and operators' scripts), and
// the process's in-memory error counters by kind.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace outpost::link {

// The Content-Type of the format.
inline constexpr std::string_view kMetricsContentType = "text/plain; version=0.0.4; charset=utf-8";

using MetricLabels = std::vector<std::pair<std::string, std::string>>;

// Builds an exposition: each family's # HELP and # TYPE once, then its samples.
class MetricsText {
 public:
  // Starts family `name` ("counter" or "gauge"). Throws InvalidArgument for a name outside
  // [a-zA-Z_:][a-zA-Z0-9_:]* or another type (a programming error, caught by tests).
  void Family(std::string_view name, std::string_view type, std::string_view help);
  // A sample of the family started last (counters end in "_total" by the caller's choice).
  // Label values are escaped (\\, \", \n); label names are checked as metric names without ':'.
  void Sample(std::string_view name, const MetricLabels& labels, double value);
  // The text, every line ending in '\n'.
  const std::string& str() const { return text_; }

 private:
  std::string text_;
};

// True for [a-zA-Z_:][a-zA-Z0-9_:]*.
bool IsMetricName(std::string_view name);
// A label value with \ " and newline escaped as the format asks.
std::string EscapeLabelValue(std::string_view value);
// Every problem of `text` as the format 0.0.4 reads it ("line 3: bad metric name `1x`"): each
// line is a # HELP / # TYPE line, another comment, empty, or `name{label="value",...} value`
// with valid names, properly escaped quoted values and a float value; a sample's family (its
// name less _total/_sum/_count/_bucket) has its # TYPE before it. Empty when it is well-formed.
std::vector<std::string> ExpositionProblems(std::string_view text);

// Errors by kind since the process started (for the daemons' errors_total next to what their
// databases record). Thread-safe.
class ErrorCounts {
 public:
  void Add(std::string_view kind);
  std::map<std::string, uint64_t> Snapshot() const;

 private:
  mutable std::mutex mu_;
  std::map<std::string, uint64_t, std::less<>> counts_;
};

// The process's counters (one per daemon process).
ErrorCounts& ProcessErrors();

}  // namespace outpost::link
