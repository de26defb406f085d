// The exposition parser against prometheus-cpp's own TextSerializer output and hand-written
// edge cases, and the rates derived from two scrapes.
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include "scaler/metrics/lb_metrics.h"
#include "scaler/metrics/prometheus_parser.h"

using namespace ebb::scaler;
using namespace std::chrono;

namespace {

const double kInf = std::numeric_limits<double>::infinity();

// A registry shaped like ebb-lb's /metrics (SPEC §6), for one pool with two backends.
struct LbRegistry {
  std::shared_ptr<prometheus::Registry> reg = std::make_shared<prometheus::Registry>();
  prometheus::Family<prometheus::Counter>& requests = prometheus::BuildCounter()
                                                          .Name("ebb_requests_total")
                                                          .Help("Requests by listener, pool, backend and code.")
                                                          .Register(*reg);
  prometheus::Family<prometheus::Histogram>& duration = prometheus::BuildHistogram()
                                                            .Name("ebb_request_duration_seconds")
                                                            .Help("Request duration in \"seconds\".")  // prometheus-cpp 1.0.1 does not escape \\ or \n in HELP
                                                            .Register(*reg);
  prometheus::Family<prometheus::Gauge>& active =
      prometheus::BuildGauge().Name("ebb_backend_active").Help("In-flight requests.").Register(*reg);
  prometheus::Family<prometheus::Gauge>& up =
      prometheus::BuildGauge().Name("ebb_backend_up").Help("1 healthy.").Register(*reg);

  prometheus::Counter& req(const std::string& backend, const std::string& code, const std::string& listener = "web") {
    return requests.Add({{"listener", listener}, {"pool", "app"}, {"backend", backend}, {"code", code}});
  }
  prometheus::Histogram& lat(const std::string& backend) {
    return duration.Add({{"pool", "app"}, {"backend", backend}},
                        prometheus::Histogram::BucketBoundaries{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10});
  }
  std::string text() const { return prometheus::TextSerializer().Serialize(reg->Collect()); }
};

}  // namespace

TEST_CASE("parser: reads what prometheus-cpp's TextSerializer writes") {
  LbRegistry r;
  r.req("127.0.0.1:9101", "2xx").Increment(42);
  r.req("127.0.0.1:9101", "5xx").Increment(3);
  r.req("127.0.0.1:9101", "2xx", "api").Increment(5);
  r.req("127.0.0.1:9102", "2xx").Increment(7);
  for (double v : {0.003, 0.02, 0.02, 0.2, 3.0}) r.lat("127.0.0.1:9101").Observe(v);
  r.active.Add({{"pool", "app"}, {"backend", "127.0.0.1:9101"}}).Set(4);
  r.up.Add({{"pool", "app"}, {"backend", "127.0.0.1:9103"}}).Set(0);
  // label values that need escaping
  r.active.Add({{"pool", "we\"ird\\po\nol"}, {"backend", "x:1"}}).Set(-2.5);

  const std::string text = r.text();
  INFO(text);
  auto parsed = parse_prometheus_text(text);
  REQUIRE(parsed.ok());
  const Exposition& e = *parsed;

  CHECK(e.types.at("ebb_requests_total") == "counter");
  CHECK(e.types.at("ebb_request_duration_seconds") == "histogram");
  CHECK(e.types.at("ebb_backend_active") == "gauge");
  CHECK(e.help.at("ebb_request_duration_seconds") == "Request duration in \"seconds\".");

  // every sample of the registry is there, with the same labels and value
  size_t expected = 0;
  for (const auto& fam : r.reg->Collect()) {
    for (const auto& m : fam.metric) {
      auto find = [&](const std::string& name, const std::vector<std::pair<std::string, std::string>>& extra) {
        for (const auto& s : e.samples) {
          if (s.name != name) continue;
          bool all = s.labels.size() == m.label.size() + extra.size();
          for (const auto& l : m.label) all = all && s.label(l.name) && *s.label(l.name) == l.value;
          for (const auto& l : extra) all = all && s.label(l.first) && *s.label(l.first) == l.second;
          if (all) return &s;
        }
        return static_cast<const Sample*>(nullptr);
      };
      if (fam.type == prometheus::MetricType::Counter) {
        const Sample* s = find(fam.name, {});
        REQUIRE(s);
        CHECK(s->value == m.counter.value);
        ++expected;
      } else if (fam.type == prometheus::MetricType::Gauge) {
        const Sample* s = find(fam.name, {});
        REQUIRE(s);
        CHECK(s->value == m.gauge.value);
        ++expected;
      } else if (fam.type == prometheus::MetricType::Histogram) {
        for (const auto& b : m.histogram.bucket) {
          // prometheus-cpp writes bounds with full precision and "+Inf" for the last one
          const Sample* found = nullptr;
          for (const auto& s : e.samples) {
            if (s.name != fam.name + "_bucket" || !s.label("le")) continue;
            auto le = *s.label("le");
            double v = le == "+Inf" ? kInf : std::stod(le);
            if (v == b.upper_bound) found = &s;
          }
          REQUIRE(found);
          CHECK(found->value == static_cast<double>(b.cumulative_count));
          ++expected;
        }
        const Sample* sum = find(fam.name + "_sum", {});
        const Sample* count = find(fam.name + "_count", {});
        REQUIRE(sum);
        REQUIRE(count);
        CHECK(sum->value == Approx(m.histogram.sample_sum));
        CHECK(count->value == static_cast<double>(m.histogram.sample_count));
        expected += 2;
      }
    }
  }
  CHECK(e.samples.size() == expected);
  // the escaped label came back unescaped
  bool weird = false;
  for (const auto& s : e.samples)
    if (s.label("pool") && *s.label("pool") == "we\"ird\\po\nol") weird = s.value == -2.5;
  CHECK(weird);
}

TEST_CASE("parser: hand-written edge cases") {
  struct Row {
    const char* text;
    const char* name;
    std::vector<std::pair<std::string, std::string>> labels;
    double value;
    std::optional<int64_t> ts;
  };
  const Row rows[] = {
      {"a 1", "a", {}, 1, std::nullopt},
      {"a{} 1", "a", {}, 1, std::nullopt},
      {"  a   2.5e3   ", "a", {}, 2500, std::nullopt},
      {"a\t-0.5", "a", {}, -0.5, std::nullopt},
      {"ns:sub_name 3", "ns:sub_name", {}, 3, std::nullopt},
      {"a{x=\"1\",y=\"two\"} 7 1700000000000", "a", {{"x", "1"}, {"y", "two"}}, 7, 1700000000000},
      {"a{x=\"1\",} 7", "a", {{"x", "1"}}, 7, std::nullopt},                 // trailing comma
      {"a{ x = \"1\" , y=\"\" } 7", "a", {{"x", "1"}, {"y", ""}}, 7, std::nullopt},
      {"a{x=\"q\\\"b\\\\s\\nn\"} 1", "a", {{"x", "q\"b\\s\nn"}}, 1, std::nullopt},
      {"a{x=\"{}=,#\"} 1", "a", {{"x", "{}=,#"}}, 1, std::nullopt},
      {"a{le=\"+Inf\"} +Inf", "a", {{"le", "+Inf"}}, kInf, std::nullopt},
      {"a -Inf", "a", {}, -kInf, std::nullopt},
      {"a +5", "a", {}, 5, std::nullopt},
      {"a 1 -5", "a", {}, 1, -5},
      {"a 1\r", "a", {}, 1, std::nullopt},
      {"a {x=\"1\"} 1", "a", {{"x", "1"}}, 1, std::nullopt},  // blanks before '{' (as expfmt)
  };
  for (const auto& r : rows) {
    INFO(r.text);
    auto e = parse_prometheus_text(r.text);
    REQUIRE(e.ok());
    REQUIRE(e->samples.size() == 1);
    const Sample& s = e->samples[0];
    CHECK(s.name == r.name);
    CHECK(s.labels == r.labels);
    CHECK(s.value == r.value);
    CHECK(s.timestamp_ms == r.ts);
  }
  auto nan = parse_prometheus_text("a NaN\nb nan\n");
  REQUIRE(nan.ok());
  CHECK(std::isnan(nan->samples[0].value));
  CHECK(std::isnan(nan->samples[1].value));

  auto whole = parse_prometheus_text(
      "# a free comment\n"
      "#\n"
      "\n"
      "# HELP x_total Some help with \\\\ and \\n.\n"
      "# TYPE x_total counter\n"
      "x_total{code=\"2xx\"} 1\r\n"
      "# TYPE h histogram\n"
      "h_bucket{le=\"0.1\"} 1\n"
      "h_bucket{le=\"+Inf\"} 2\n"
      "h_sum 0.3\n"
      "h_count 2\n");
  REQUIRE(whole.ok());
  CHECK(whole->samples.size() == 5);
  CHECK(whole->help.at("x_total") == "Some help with \\ and \n.");
  CHECK(whole->types.at("h") == "histogram");
}

TEST_CASE("parser: malformed input is an error naming the line, never a crash") {
  struct Row { const char* text; const char* fragment; };
  const Row rows[] = {
      {"ok 1\n1a 2", "line 2: expected a metric name"},
      {"a", "expected a blank before the value"},
      {"a ", "invalid value \"\""},
      {"a one", "invalid value"},
      {"a 1 2 3", "unexpected text after the timestamp"},
      {"a 1 1.5", "invalid timestamp"},
      {"a{x=1} 1", "expected '\"'"},
      {"a{x\"1\"} 1", "expected '='"},
      {"a{x=\"1\" y=\"2\"} 1", "expected ',' or '}'"},
      {"a{x=\"1} 1", "unterminated label value"},
      {"a{x=\"\\t\"} 1", "invalid escape"},
      {"a{x=\"1\",x=\"2\"} 1", "duplicate label"},
      {"a{1x=\"1\"} 1", "expected a label name"},
      {"a{x=\"1\"", "expected ',' or '}'"},
      {"a{x=\"1\"}1", "expected a blank before the value"},
      {"# TYPE a countr", "unknown metric type"},
      {"# TYPE a counter\n# TYPE a gauge", "line 2: second # TYPE"},
      {"# TYPE", "expected a metric name"},
      {"# TYPE a counter extra", "unexpected text"},
      {"a 0x10", "invalid value"},
      {"a infinity", "invalid value"},
  };
  for (const auto& r : rows) {
    INFO(r.text);
    auto e = parse_prometheus_text(r.text);
    REQUIRE_FALSE(e.ok());
    CHECK_THAT(e.error(), Catch::Contains(r.fragment));
  }
  CHECK(parse_prometheus_text("").ok());
}

TEST_CASE("lb metrics: rates, latency quantiles and in-flight from two prometheus-cpp scrapes") {
  LbRegistry r;
  const TimePoint t0 = TimePoint{sys_days{year{2026} / January / 5}};
  auto& ok1 = r.req("127.0.0.1:9101", "2xx");
  auto& err1 = r.req("127.0.0.1:9101", "5xx", "api");
  auto& ok2 = r.req("127.0.0.1:9102", "2xx");
  auto& h1 = r.lat("127.0.0.1:9101");
  auto& a1 = r.active.Add({{"pool", "app"}, {"backend", "127.0.0.1:9101"}});
  r.active.Add({{"pool", "app"}, {"backend", "127.0.0.1:9102"}}).Set(0);
  r.active.Add({{"pool", "other"}, {"backend", "127.0.0.1:9101"}}).Set(100);  // another pool
  r.requests.Add({{"listener", "web"}, {"pool", "other"}, {"backend", "127.0.0.1:9101"}, {"code", "2xx"}}).Increment(1e6);
  ok1.Increment(100);
  for (int i = 0; i < 50; ++i) h1.Observe(0.007);
  auto s0 = parse_prometheus_text(r.text());
  REQUIRE(s0.ok());
  PoolScrape p0 = extract_pool(*s0, "app", t0);

  // 10 s later: 200 + 50 requests on 9101, 30 on 9102; 100 observations, 90 in (0.05, 0.1], 10 in (0.25, 0.5]
  ok1.Increment(200);
  err1.Increment(50);
  ok2.Increment(30);
  for (int i = 0; i < 90; ++i) h1.Observe(0.07);
  for (int i = 0; i < 10; ++i) h1.Observe(0.3);
  a1.Set(6);
  auto s1 = parse_prometheus_text(r.text());
  REQUIRE(s1.ok());
  PoolScrape p1 = extract_pool(*s1, "app", t0 + seconds{10});

  REQUIRE(p1.backends.size() == 2);
  auto rates = derive_rates(p0, p1);
  const auto& b1 = rates.at("127.0.0.1:9101");
  const auto& b2 = rates.at("127.0.0.1:9102");
  CHECK(*b1.requests_per_s == Approx(25.0));
  CHECK(*b2.requests_per_s == Approx(3.0));  // 9102 had no requests at t0 but was listed (active)
  CHECK(*b1.active == 6);
  CHECK(*b2.active == 0);
  REQUIRE(b1.latency);
  CHECK(b1.latency->count == 100);
  // p50: rank 50 of the increase lies in (0.05, 0.1] holding 90 → 0.05 + 0.05 × 50/90
  CHECK(*histogram_quantile(0.5, *b1.latency) == Approx(0.05 + 0.05 * 50.0 / 90.0));
  // p95: rank 95 lies in (0.25, 0.5] holding 10, 90 below → 0.25 + 0.25 × 5/10
  CHECK(*histogram_quantile(0.95, *b1.latency) == Approx(0.375));
  // 9102 never saw a request: an empty increase (idle), not missing
  REQUIRE(b2.latency);
  CHECK_FALSE(histogram_quantile(0.95, *b2.latency).has_value());

  // a backend new in this scrape has no rate yet
  PoolScrape p_new = p1;
  p_new.backends["127.0.0.1:9109"].requests = 5;
  auto r2 = derive_rates(p1, p_new);
  CHECK_FALSE(r2.at("127.0.0.1:9109").requests_per_s.has_value());
  // a counter reset (LB restart) counts the new value
  PoolScrape reset = p1;
  reset.at = p1.at + seconds{5};
  reset.backends["127.0.0.1:9101"].requests = 20;
  CHECK(*derive_rates(p1, reset).at("127.0.0.1:9101").requests_per_s == Approx(4.0));
  // no time between scrapes: no rates
  CHECK_FALSE(derive_rates(p1, p1).at("127.0.0.1:9101").requests_per_s.has_value());

  // two LBs: rates and in-flight add up; a backend one LB lacks is missing
  auto combined = combine_lbs({rates, rates});
  CHECK(*combined.at("127.0.0.1:9101").requests_per_s == Approx(50.0));
  CHECK(*combined.at("127.0.0.1:9101").active == 12);
  CHECK(combined.at("127.0.0.1:9101").latency->count == 200);
  auto partial = rates;
  partial.erase("127.0.0.1:9102");
  combined = combine_lbs({rates, partial});
  CHECK_FALSE(combined.at("127.0.0.1:9102").requests_per_s.has_value());
  CHECK_FALSE(combined.at("127.0.0.1:9102").active.has_value());
}
