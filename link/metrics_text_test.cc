#include "link/metrics_text.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/support/matchers.h"

namespace outpost::link {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using outpost::testing::ThrowsKind;

TEST(MetricsText, WritesHelpAndTypeOnceThenEachSample) {
  MetricsText m;
  m.Family("outpost_x_total", "counter", "Things.");
  m.Sample("outpost_x_total", {{"site", "oslo"}}, 3);
  m.Sample("outpost_x_total", {{"site", "bergen"}}, 0.5);
  EXPECT_EQ(m.str(),
            "# HELP outpost_x_total Things.\n# TYPE outpost_x_total counter\n"
            "outpost_x_total{site=\"oslo\"} 3\noutpost_x_total{site=\"bergen\"} 0.5\n");
  EXPECT_THAT(ExpositionProblems(m.str()), IsEmpty());
}

TEST(MetricsText, EscapesBackslashQuoteAndNewlineInLabelValues) {
  MetricsText m;
  m.Family("g", "gauge", "A gauge.");
  m.Sample("g", {{"kind", "a\\b\"c\nd"}}, 1);
  EXPECT_THAT(m.str(), HasSubstr("g{kind=\"a\\\\b\\\"c\\nd\"} 1\n"));
  EXPECT_THAT(ExpositionProblems(m.str()), IsEmpty());
}

TEST(MetricsText, RefusesANameOutsideTheFormatsAlphabet) {
  MetricsText m;
  EXPECT_THAT([&] { m.Family("1st", "gauge", "x"); }, ThrowsKind(Error::Kind::kInvalidArgument));
  EXPECT_THAT([&] { m.Family("a-b", "gauge", "x"); }, ThrowsKind(Error::Kind::kInvalidArgument));
  EXPECT_THAT([&] { m.Sample("ok", {{"bad:label", "v"}}, 1); }, ThrowsKind(Error::Kind::kInvalidArgument));
  EXPECT_TRUE(IsMetricName("ns:sub_name_2"));
}

TEST(ExpositionProblems, FindsEachKindOfBrokenLine) {
  EXPECT_THAT(ExpositionProblems("# TYPE a gauge\na{x=\"1} 2\n"), ElementsAre(HasSubstr("line 2: unterminated")));
  EXPECT_THAT(ExpositionProblems("# TYPE a gauge\na{x=\"\\q\"} 2\n"), ElementsAre(HasSubstr("bad escape")));
  EXPECT_THAT(ExpositionProblems("b 1\n"), ElementsAre(HasSubstr("before its # TYPE")));
  EXPECT_THAT(ExpositionProblems("# TYPE a gauge\na one\n"), ElementsAre(HasSubstr("bad value")));
  EXPECT_THAT(ExpositionProblems("# TYPE a-b gauge\n"), ElementsAre(HasSubstr("bad metric name")));
  EXPECT_THAT(ExpositionProblems("# TYPE a gauge\n# TYPE a gauge\n"), ElementsAre(HasSubstr("twice")));
  EXPECT_THAT(ExpositionProblems("# TYPE a gauge\na 1"), ElementsAre(HasSubstr("newline")));
  EXPECT_THAT(ExpositionProblems("# TYPE a_total counter\na_total{k=\"v\",l=\"w\"} +Inf 1700000000\n"), IsEmpty());
}

TEST(ErrorCounts, CountsEachKindSeparately) {
  ErrorCounts counts;
  counts.Add("tls");
  counts.Add("tls");
  counts.Add("disk");
  EXPECT_EQ(counts.Snapshot(), (std::map<std::string, uint64_t>{{"disk", 1}, {"tls", 2}}));
}

}  // namespace
}  // namespace outpost::link
