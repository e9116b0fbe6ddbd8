#include "link/metrics_text.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <set>

#include "common/error.h"

namespace outpost::link {
namespace {

bool IsNameChar(char c, bool first, bool colon) {
  if (c == '_' || (colon && c == ':')) return true;
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) return true;
  return !first && c >= '0' && c <= '9';
}

bool IsName(std::string_view name, bool colon) {
  if (name.empty()) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    if (!IsNameChar(name[i], i == 0, colon)) return false;
  }
  return true;
}

std::string FormatValue(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  if (value == std::floor(value) && std::fabs(value) < 1e15) return std::to_string(static_cast<int64_t>(value));
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.17g", value);
  return buf;
}

// The family a sample name belongs to.
std::string_view FamilyOf(std::string_view name, const std::set<std::string, std::less<>>& typed) {
  if (typed.count(name)) return name;
  for (std::string_view suffix : {"_total", "_sum", "_count", "_bucket"}) {
    if (name.ends_with(suffix) && typed.count(name.substr(0, name.size() - suffix.size()))) {
      return name.substr(0, name.size() - suffix.size());
    }
  }
  return name;
}

bool IsValue(std::string_view text) {
  if (text == "NaN" || text == "+Inf" || text == "-Inf") return true;
  std::string s(text);
  char* end = nullptr;
  std::strtod(s.c_str(), &end);
  return !s.empty() && end == s.c_str() + s.size() && s.find_first_of("xXpP") == std::string::npos;
}

// Checks `{a="x",b="y"}` at the start of `rest`; consumes it. Returns "" or the problem.
std::string ReadLabels(std::string_view& rest) {
  rest.remove_prefix(1);  // '{'
  std::set<std::string, std::less<>> seen;
  while (!rest.empty() && rest.front() != '}') {
    size_t eq = rest.find('=');
    if (eq == std::string_view::npos) return "label without `=`";
    std::string_view name = rest.substr(0, eq);
    if (!IsName(name, false)) return "bad label name `" + std::string(name) + "`";
    if (!seen.insert(std::string(name)).second) return "label `" + std::string(name) + "` twice";
    rest.remove_prefix(eq + 1);
    if (rest.empty() || rest.front() != '"') return "label value not quoted";
    rest.remove_prefix(1);
    for (;;) {
      if (rest.empty()) return "unterminated label value";
      char c = rest.front();
      rest.remove_prefix(1);
      if (c == '"') break;
      if (c == '\\') {
        if (rest.empty() || (rest.front() != '\\' && rest.front() != '"' && rest.front() != 'n')) return "bad escape in label value";
        rest.remove_prefix(1);
      }
    }
    if (!rest.empty() && rest.front() == ',') rest.remove_prefix(1);
  }
  if (rest.empty()) return "unterminated label set";
  rest.remove_prefix(1);  // '}'
  return "";
}

std::string SampleProblem(std::string_view line, const std::set<std::string, std::less<>>& typed) {
  size_t end = line.find_first_of("{ ");
  if (end == std::string_view::npos) return "sample without a value";
  std::string_view name = line.substr(0, end);
  if (!IsMetricName(name)) return "bad metric name `" + std::string(name) + "`";
  if (!typed.count(FamilyOf(name, typed))) return "sample `" + std::string(name) + "` before its # TYPE";
  std::string_view rest = line.substr(end);
  if (rest.front() == '{') {
    std::string problem = ReadLabels(rest);
    if (!problem.empty()) return problem;
  }
  if (rest.empty() || rest.front() != ' ') return "no space before the value";
  rest.remove_prefix(1);
  std::string_view value = rest.substr(0, rest.find(' '));
  if (!IsValue(value)) return "bad value `" + std::string(value) + "`";
  if (value.size() < rest.size()) {  // an optional timestamp
    std::string_view ts = rest.substr(value.size() + 1);
    if (ts.empty() || ts.find_first_not_of("-0123456789") != std::string_view::npos) return "bad timestamp";
  }
  return "";
}

}  // namespace

bool IsMetricName(std::string_view name) { return IsName(name, true); }

std::string EscapeLabelValue(std::string_view value) {
  std::string out;
  for (char c : value) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

void MetricsText::Family(std::string_view name, std::string_view type, std::string_view help) {
  if (!IsMetricName(name)) throw InvalidArgument("metric name `", name, "` is not [a-zA-Z_:][a-zA-Z0-9_:]*");
  if (type != "counter" && type != "gauge") throw InvalidArgument("metric ", name, ": type `", type, "` is not counter or gauge");
  std::string escaped;
  for (char c : help) escaped += c == '\\' ? "\\\\" : c == '\n' ? "\\n" : std::string(1, c);
  text_ += "# HELP " + std::string(name) + " " + escaped + "\n";
  text_ += "# TYPE " + std::string(name) + " " + std::string(type) + "\n";
}

void MetricsText::Sample(std::string_view name, const MetricLabels& labels, double value) {
  if (!IsMetricName(name)) throw InvalidArgument("metric name `", name, "` is not [a-zA-Z_:][a-zA-Z0-9_:]*");
  text_ += name;
  if (!labels.empty()) {
    text_ += '{';
    for (size_t i = 0; i < labels.size(); ++i) {
      if (!IsName(labels[i].first, false)) throw InvalidArgument("label name `", labels[i].first, "` of ", name, " is not valid");
      text_ += (i ? "," : "") + labels[i].first + "=\"" + EscapeLabelValue(labels[i].second) + "\"";
    }
    text_ += '}';
  }
  text_ += " " + FormatValue(value) + "\n";
}

std::vector<std::string> ExpositionProblems(std::string_view text) {
  std::vector<std::string> problems;
  std::set<std::string, std::less<>> typed, helped;
  if (!text.empty() && !text.ends_with('\n')) problems.push_back("the last line does not end in a newline");
  size_t number = 0;
  while (!text.empty()) {
    ++number;
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    std::string problem;
    if (line.empty()) continue;
    if (line.starts_with("# HELP ") || line.starts_with("# TYPE ")) {
      bool help = line[2] == 'H';
      std::string_view rest = line.substr(7);
      std::string_view name = rest.substr(0, rest.find(' '));
      std::string_view arg = name.size() < rest.size() ? rest.substr(name.size() + 1) : "";
      if (!IsMetricName(name)) {
        problem = "bad metric name `" + std::string(name) + "`";
      } else if (!(help ? helped : typed).insert(std::string(name)).second) {
        problem = std::string(help ? "# HELP" : "# TYPE") + " of `" + std::string(name) + "` twice";
      } else if (!help && arg != "counter" && arg != "gauge" && arg != "histogram" && arg != "summary" && arg != "untyped") {
        problem = "bad type `" + std::string(arg) + "`";
      }
    } else if (line.front() != '#') {
      problem = SampleProblem(line, typed);
    }
    if (!problem.empty()) problems.push_back("line " + std::to_string(number) + ": " + problem);
  }
  return problems;
}

void ErrorCounts::Add(std::string_view kind) {
  std::lock_guard lock(mu_);
  auto it = counts_.find(kind);
  if (it == counts_.end()) it = counts_.emplace(std::string(kind), 0).first;
  ++it->second;
}

std::map<std::string, uint64_t> ErrorCounts::Snapshot() const {
  std::lock_guard lock(mu_);
  return {counts_.begin(), counts_.end()};
}

ErrorCounts& ProcessErrors() {
  static ErrorCounts counts;
  return counts;
}

}  // namespace outpost::link
