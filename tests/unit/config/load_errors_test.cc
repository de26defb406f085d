// Invalid configs: one test per class of error, each asserting the exact line, column, key
// path and message of the diagnostic (SPEC §1: "FILE:LINE:COL: key: message").
#include <catch2/catch.hpp>

#include "config/load.h"
#include "helpers.h"

using namespace ebb::config;
using namespace ebb::config::test;

namespace {
std::string lb(const std::string& extra) { return std::string(kMinimalListener) + kMinimalPool + extra; }
// kMinimalListener + kMinimalPool are 7 lines: what `extra` holds starts on line 8.
constexpr unsigned kExtraLine = 8;
// A pool without backends, for tests that write their own: `extra` starts on line 7.
std::string lb_no_backends(const std::string& extra) {
  return std::string(kMinimalListener) + "[[pools]]\nname = \"app\"\n" + extra;
}

const char* kScalerHead = R"([scaler]
pool = "app"
[[scaler.targets]]
metric = "cpu_percent"
target = 60
[driver]
type = "exec"
launch = ["/bin/launch"]
terminate = ["/bin/terminate", "{address}"]
)";  // 9 lines
}  // namespace

TEST_CASE("the SPEC's example: unknown enum value, with the list of allowed values", "[config][errors]") {
  // pools[0].balance on line 12, its value at column 11, exactly as in SPEC §1.
  auto l = parse_lb_config(R"([runtime]
workers = 2

[[listeners]]
name = "web"
listen = "127.0.0.1:8080"
pool = "app"

[[pools]]
name = "app"
backends = ["127.0.0.1:9001"]
balance = "fastest"
)",
                           "lb.toml");
  expect_only_error(l, 12, 11, "pools[0].balance",
                    "unknown value \"fastest\" (expected one of round_robin, weighted_round_robin, least_conn, hash, "
                    "response_time, random)");
  CHECK(l.errors[0].str() ==
        "lb.toml:12:11: pools[0].balance: unknown value \"fastest\" (expected one of round_robin, "
        "weighted_round_robin, least_conn, hash, response_time, random)");
}

TEST_CASE("errors: a TOML error at the end of a file without a final newline points into the file",
          "[config][errors]") {
  // toml11 says line 2 for a one-line file (it parses with an LF appended); found by
  // tests/fuzz/fuzz_config (regression input toml-error-past-eof).
  auto l = parse_lb_config("a = [1", "lb.toml");
  REQUIRE(l.errors.size() == 1);
  CHECK(l.errors[0].line == 1);
  CHECK(l.errors[0].column == 7);
  auto two = parse_lb_config("[runtime]\nworkers = [[1]", "lb.toml");
  REQUIRE(two.errors.size() == 1);
  CHECK(two.errors[0].line == 2);
  CHECK(two.errors[0].column == 15);
}

TEST_CASE("errors: TOML syntax", "[config][errors]") {
  auto l = parse_lb_config("[runtime]\nworkers = 4 4\n", "lb.toml");
  expect_only_error(l, 2, 13, "", "invalid TOML: invalid line format (expected newline, but got '4'.)");
  auto dup = parse_lb_config("[runtime]\nworkers = 4\nworkers = 5\n", "lb.toml");
  expect_only_error(dup, 3, 11, "", "invalid TOML: value (\"workers\") already exists (value defined twice)");
  auto unterminated = parse_lb_config("[admin]\nlisten = \"127.0.0.1:1\n", "lb.toml");
  expect_only_error(unterminated, 2, 10, "", "invalid TOML: the next token is not a valid string");
}

TEST_CASE("errors: wrong type names the expected type", "[config][errors]") {
  expect_only_error(parse_lb_config(lb("[runtime]\nworkers = \"4\"\n"), "lb.toml"), kExtraLine + 1, 11,
                    "runtime.workers", "expected an integer, got a string");
  expect_only_error(parse_lb_config(lb("managed = \"yes\"\n"), "lb.toml"), kExtraLine, 11, "pools[0].managed",
                    "expected a boolean (true or false), got a string");
  expect_only_error(parse_lb_config(lb("connect_timeout = 3\n"), "lb.toml"), kExtraLine, 19,
                    "pools[0].connect_timeout", "expected a duration string like \"250ms\", \"5s\", \"2m\", got an integer");
  expect_only_error(parse_lb_config(lb("[admin]\nlisten = 9901\n"), "lb.toml"), kExtraLine + 1, 10, "admin.listen",
                    "expected a string, got an integer");
  expect_only_error(parse_lb_config("runtime = 1\n" + lb(""), "lb.toml"), 1, 11, "runtime",
                    "expected a table, got an integer");
  expect_only_error(parse_lb_config(lb_no_backends("backends = [\"127.0.0.1:1\", 5]\n"), "lb.toml"), 7, 28,
                    "pools[0].backends[1]",
                    "expected a table like { address = \"host:port\", weight = 1 }, got an integer");
}

TEST_CASE("errors: ranges", "[config][errors]") {
  auto weight = parse_lb_config(lb_no_backends("backends = [{ address = \"127.0.0.1:1\", weight = 0 }]\n"), "lb.toml");
  expect_only_error(weight, 7, 49, "pools[0].backends[0].weight", "must be between 1 and 10000, got 0");
  expect_only_error(parse_lb_config(lb("[runtime]\nworkers = 1025\n"), "lb.toml"), kExtraLine + 1, 11,
                    "runtime.workers", "must be between 0 and 1024, got 1025");
  expect_only_error(parse_lb_config(lb("[pools.health]\nhealthy_threshold = 0\n"), "lb.toml"), kExtraLine + 1, 21,
                    "pools[0].health.healthy_threshold", "must be between 1 and 1000, got 0");
  expect_only_error(parse_lb_config(lb("[runtime]\nworkers = -1\n"), "lb.toml"), kExtraLine + 1, 11, "runtime.workers",
                    "must be between 0 and 1024, got -1");
  expect_only_error(parse_lb_config(lb("[runtime]\nmax_connections = 99999999999999999999\n"), "lb.toml"),
                    kExtraLine + 1, 19, "runtime.max_connections", "integer 99999999999999999999 is out of range");
  expect_only_error(parse_lb_config(lb("idle_timeout = \"0s\"\n"), "lb.toml"), kExtraLine, 16, "pools[0].idle_timeout",
                    "must be greater than 0");
}

TEST_CASE("errors: durations, addresses, expect, hash_key, host patterns", "[config][errors]") {
  expect_only_error(parse_lb_config(lb("sticky_ttl = \"1 hour\"\n"), "lb.toml"), kExtraLine, 14, "pools[0].sticky_ttl",
                    "invalid duration \"1 hour\": unit must be one of ms, s, m, h, d");
  expect_only_error(parse_lb_config(lb_no_backends("backends = [\"::1:80\"]\n"), "lb.toml"), 7, 13, "pools[0].backends[0]",
                    "invalid address \"::1:80\": IPv6 addresses need brackets (expected host:port or [v6]:port)");
  expect_only_error(parse_lb_config(lb("[pools.health]\nexpect = \"2xx\"\n"), "lb.toml"), kExtraLine + 1, 10,
                    "pools[0].health.expect",
                    "invalid status range \"2xx\" (expected a status code like \"200\" or a range like \"200-399\", codes "
                    "100-599)");
  expect_only_error(parse_lb_config(lb("balance = \"hash\"\nhash_key = \"header:\"\n"), "lb.toml"), kExtraLine + 1, 12,
                    "pools[0].hash_key", "invalid hash_key \"header:\": \"\" is not a valid header name");
  expect_only_error(parse_lb_config(lb("balance = \"hash\"\nhash_key = \"path\"\n"), "lb.toml"), kExtraLine + 1, 12,
                    "pools[0].hash_key",
                    "unknown value \"path\" (expected one of source_ip, uri, header:NAME, cookie:NAME)");
  auto route = parse_lb_config(std::string(kMinimalListener) + "  [[listeners.routes]]\n  host = \"a.*.com\"\n  pool = \"app\"\n" +
                                   kMinimalPool,
                               "lb.toml");
  expect_only_error(route, 6, 10, "listeners[0].routes[0].host",
                    "invalid host \"a.*.com\": '*' is only allowed as the first label, \"*.\" (expected a name like "
                    "\"api.example.com\" or \"*.example.com\")");
}

TEST_CASE("errors: references to pools point at the reference", "[config][errors]") {
  auto l = parse_lb_config(R"([[listeners]]
name = "web"
listen = "127.0.0.1:8080"
pool = "ap"
  [[listeners.routes]]
  path_prefix = "/api/"
  pool = "api"
[[pools]]
name = "app"
)",
                           "lb.toml");
  REQUIRE(l.errors.size() == 2);
  CHECK(l.errors[0].str() == "lb.toml:4:8: listeners[0].pool: unknown pool \"ap\" (defined pools: app)");
  CHECK(l.errors[1].str() == "lb.toml:7:10: listeners[0].routes[0].pool: unknown pool \"api\" (defined pools: app)");
}

TEST_CASE("errors: duplicates point at the second occurrence", "[config][errors]") {
  auto l = parse_lb_config(R"([[listeners]]
name = "web"
listen = "0.0.0.0:8080"
pool = "app"
[[listeners]]
name = "web"
listen = "127.0.0.1:8080"
pool = "app"
[[pools]]
name = "app"
backends = ["127.0.0.1:1", { address = "127.0.0.1:1", weight = 2 }]
[[pools]]
name = "app"
managed = true
)",
                           "lb.toml");
  INFO(all(l.errors));
  REQUIRE(l.errors.size() == 4);
  CHECK(l.errors[0].str() ==
        "lb.toml:6:8: listeners[1].name: duplicate listener name \"web\", first defined at listeners[0] (line 2)");
  CHECK(l.errors[1].str() ==
        "lb.toml:7:10: listeners[1].listen: address 127.0.0.1:8080 is already used by listener \"web\" (line 3)");
  CHECK(l.errors[2].str() ==
        "lb.toml:11:40: pools[0].backends[1].address: duplicate backend 127.0.0.1:1 in pool \"app\", first at "
        "backends[0]");
  CHECK(l.errors[3].str() == "lb.toml:13:8: pools[1].name: duplicate pool name \"app\", first defined at pools[0] (line 10)");
}

TEST_CASE("errors: unknown keys point at the key, with a suggestion", "[config][errors]") {
  auto l = parse_lb_config(lb("  [pools.helth]\n  check = \"tcp\"\nbackends2 = 1\n[runtime]\n  workers = 1\n  worker = 2\n"
                              "[[extra]]\n"),
                           "lb.toml");
  // note: "backends2" after [pools.helth] belongs to that table
  INFO(all(l.errors));
  REQUIRE(l.errors.size() == 3);
  CHECK(l.errors[0].str() == "lb.toml:8:10: pools[0].helth: unknown key \"helth\" (did you mean \"health\"?)");
  CHECK(l.errors[1].str() == "lb.toml:13:3: runtime.worker: unknown key \"worker\" (did you mean \"workers\"?)");
  CHECK(l.errors[2].str() ==
        "lb.toml:14:3: extra: unknown key \"extra\" (expected one of runtime, admin, listeners, pools)");
  auto inline_key = parse_lb_config(lb_no_backends("backends = [{ address = \"127.0.0.1:1\", wieght = 2 }]\n"), "lb.toml");
  expect_only_error(inline_key, 7, 40, "pools[0].backends[0].wieght", "unknown key \"wieght\" (did you mean \"weight\"?)");
}

TEST_CASE("errors: required keys are reported at their table", "[config][errors]") {
  auto l = parse_lb_config("[[listeners]]\nname = \"web\"\npool = \"app\"\n" + std::string(kMinimalPool), "lb.toml");
  expect_only_error(l, 1, 1, "listeners[0].listen", "required key is missing");
  auto empty_name = parse_lb_config(lb("[[pools]]\nname = \"\"\n"), "lb.toml");
  expect_only_error(empty_name, kExtraLine + 1, 8, "pools[1].name", "must not be empty");
  auto none = parse_lb_config("[runtime]\nworkers = 1\n", "lb.toml");
  REQUIRE(none.errors.size() == 2);
  CHECK(none.errors[0].str() == "lb.toml: listeners: no listeners defined (at least one [[listeners]] is required)");
  CHECK(none.errors[1].str() == "lb.toml: pools: no pools defined (at least one [[pools]] is required)");
}

TEST_CASE("errors: tls cert and key go together and must be readable files", "[config][errors]") {
  TempFile cert("pem", "site.pem");
  auto no_key = parse_lb_config(std::string(kMinimalListener) + "  [listeners.tls]\n  cert = \"" + cert.path() + "\"\n" +
                                    kMinimalPool,
                                "lb.toml");
  expect_only_error(no_key, 6, 10, "listeners[0].tls.cert", "cert is given without key (both are required)");
  auto missing = parse_lb_config(std::string(kMinimalListener) + "  [listeners.tls]\n  cert = \"" + cert.path() +
                                     "\"\n  key = \"/nonexistent/site.key\"\n" + kMinimalPool,
                                 "lb.toml");
  expect_only_error(missing, 7, 9, "listeners[0].tls.key",
                    "cannot read key file \"/nonexistent/site.key\": No such file or directory");
  auto dir = parse_lb_config(std::string(kMinimalListener) + "  [listeners.tls]\n  cert = \"/tmp\"\n  key = \"" +
                                 cert.path() + "\"\n" + kMinimalPool,
                             "lb.toml");
  expect_only_error(dir, 6, 10, "listeners[0].tls.cert", "cannot read certificate file \"/tmp\": is a directory");
  auto sni = parse_lb_config(std::string(kMinimalListener) + "  [listeners.tls]\n  cert = \"" + cert.path() +
                                 "\"\n  key = \"" + cert.path() + "\"\n  sni = [{ key = \"" + cert.path() + "\" }]\n" +
                                 kMinimalPool,
                             "lb.toml");
  expect_only_error(sni, 8, 18, "listeners[0].tls.sni[0].key", "key is given without cert (both are required)");
  auto version = parse_lb_config(std::string(kMinimalListener) + "  [listeners.tls]\n  cert = \"" + cert.path() +
                                     "\"\n  key = \"" + cert.path() + "\"\n  min_version = 1.2\n" + kMinimalPool,
                                 "lb.toml");
  expect_only_error(version, 8, 17, "listeners[0].tls.min_version",
                    "expected a string, got a float (write it in quotes: \"1.2\" or \"1.3\")");
}

TEST_CASE("errors: L7-only features on a tcp listener", "[config][errors]") {
  auto l = parse_lb_config(R"([[listeners]]
name = "raw"
listen = "127.0.0.1:5432"
mode = "tcp"
pool = "app"
  [[listeners.routes]]
  pool = "app"
[[pools]]
name = "app"
balance = "hash"
hash_key = "uri"
backends = ["127.0.0.1:1"]
)",
                           "lb.toml");
  INFO(all(l.errors));
  REQUIRE(l.errors.size() == 2);
  CHECK(l.errors[0].str() ==
        "lb.toml:5:8: listeners[0].pool: pool \"app\" hashes on uri, which is L7 only, but this listener has mode = "
        "\"tcp\" (use hash_key = \"source_ip\" or mode = \"http\")");
  CHECK(l.errors[1].str() == "lb.toml:6:3: listeners[0].routes: routes need mode = \"http\" (listener \"raw\" is tcp)");
}

TEST_CASE("errors: all errors are reported at once, in file order", "[config][errors]") {
  auto l = parse_lb_config(R"([runtime]
log_level = "verbose"
workers = 2000
[[listeners]]
name = "web"
listen = "localhost"
pool = "nope"
[[pools]]
name = "app"
retries = "2"
)",
                           "lb.toml");
  INFO(all(l.errors));
  REQUIRE(l.errors.size() == 5);
  CHECK(l.errors[0].key == "runtime.log_level");
  CHECK(l.errors[1].key == "runtime.workers");
  CHECK(l.errors[2].key == "listeners[0].listen");
  CHECK(l.errors[3].key == "listeners[0].pool");
  CHECK(l.errors[4].key == "pools[0].retries");
  CHECK(l.errors[4].line == 10);
}

TEST_CASE("errors: scaler ranges, references and cron", "[config][errors]") {
  expect_only_error(parse_scaler_config(std::string(kScalerHead) + "[scaler]\n", "s.toml"), 10, 1, "",
                    "invalid TOML: table (\"scaler\") already exists (table defined twice)");
  auto minmax = parse_scaler_config(R"([scaler]
pool = "app"
min = 5
max = 3
lb_admin = ["https://lb:9901"]
[[scaler.targets]]
metric = "cpu_percent"
target = 0
[[scaler.schedule]]
cron = "0 8 * * 1-8"
duration = "1h"
min = 1
[driver]
type = "exec"
launch = ["/bin/launch"]
terminate = ["/bin/terminate", "{address}"]
)",
                                    "s.toml");
  INFO(all(minmax.errors));
  REQUIRE(minmax.errors.size() == 4);
  CHECK(minmax.errors[0].str() == "s.toml:3:7: scaler.min: min (5) is larger than max (3)");
  CHECK(minmax.errors[1].str() ==
        "s.toml:5:13: scaler.lb_admin[0]: invalid URL \"https://lb:9901\": https is not supported (expected "
        "http://host:port)");
  CHECK(minmax.errors[2].str() == "s.toml:8:10: scaler.targets[0].target: must be a number greater than 0, got 0");
  CHECK(minmax.errors[3].str() ==
        "s.toml:10:8: scaler.schedule[0].cron: invalid cron expression \"0 8 * * 1-8\": value out of range in day "
        "of week field \"1-8\" (0-7)");
  auto metric = parse_scaler_config(R"([scaler]
pool = "app"
[[scaler.targets]]
metric = "memory"
target = 1
[driver]
type = "exec"
launch = ["/bin/launch"]
terminate = ["/bin/terminate", "{address}"]
)",
                                    "s.toml");
  expect_only_error(metric, 4, 10, "scaler.targets[0].metric",
                    "unknown value \"memory\" (expected one of cpu_percent, latency_p95_ms, latency_p50_ms, "
                    "requests_per_backend, active_per_backend)");
  auto no_targets = parse_scaler_config("[scaler]\npool = \"app\"\n[driver]\ntype = \"systemd\"\nunit = \"w@{port}.service\"\nports = \"9000-9100\"\n", "s.toml");
  expect_only_error(no_targets, 1, 1, "scaler.targets",
                    "no targets defined (at least one [[scaler.targets]] is required)");
}

TEST_CASE("errors: driver keys per type", "[config][errors]") {
  auto wrong = parse_scaler_config(R"([scaler]
pool = "app"
[[scaler.targets]]
metric = "cpu_percent"
target = 60
[driver]
type = "process"
command = ["/bin/server", "{port}"]
ports = "9100-9199"
unit = "web@{port}.service"
)",
                                   "s.toml");
  expect_only_error(wrong, 10, 1, "driver.unit", "not used by the process driver (it belongs to type = \"systemd\")");
  auto missing = parse_scaler_config(R"([scaler]
pool = "app"
[[scaler.targets]]
metric = "cpu_percent"
target = 60
[driver]
type = "exec"
launch = ["/bin/launch"]
)",
                                     "s.toml");
  expect_only_error(missing, 6, 1, "driver.terminate", "required with type = \"exec\"");
  auto ports = parse_scaler_config(R"([scaler]
pool = "app"
max = 10
[[scaler.targets]]
metric = "cpu_percent"
target = 60
[driver]
type = "process"
command = ["/bin/server", "{port}"]
ports = "9100-9104"
)",
                                   "s.toml");
  expect_only_error(ports, 10, 9, "driver.ports", "the range has 5 ports, fewer than scaler.max (10)");
  auto bad_range = parse_scaler_config(R"([scaler]
pool = "app"
[[scaler.targets]]
metric = "cpu_percent"
target = 60
[driver]
type = "process"
command = ["/bin/server", "{port}"]
ports = "9199-9100"
)",
                                       "s.toml");
  expect_only_error(bad_range, 9, 9, "driver.ports", "invalid port range \"9199-9100\": the first port is larger than the last");
  auto no_type = parse_scaler_config("[scaler]\npool = \"app\"\n[[scaler.targets]]\nmetric = \"cpu_percent\"\ntarget = 1\n[driver]\n",
                                     "s.toml");
  expect_only_error(no_type, 6, 1, "driver.type", "required key is missing (expected one of process, exec, systemd)");
  auto no_driver = parse_scaler_config("[scaler]\npool = \"app\"\n[[scaler.targets]]\nmetric = \"cpu_percent\"\ntarget = 1\n",
                                       "s.toml");
  expect_only_error(no_driver, 1, 1, "driver", "required key is missing");
  auto bad_type = parse_scaler_config(
      "[scaler]\npool = \"app\"\n[[scaler.targets]]\nmetric = \"cpu_percent\"\ntarget = 1\n[driver]\ntype = \"docker\"\n",
      "s.toml");
  expect_only_error(bad_type, 7, 8, "driver.type", "unknown value \"docker\" (expected one of process, exec, systemd)");
  auto empty_targets = parse_scaler_config(
      "[scaler]\npool = \"app\"\ntargets = []\n[driver]\ntype = \"exec\"\nlaunch = [\"a\"]\nterminate = [\"b\"]\n",
      "s.toml");
  expect_only_error(empty_targets, 3, 11, "scaler.targets",
                    "no targets defined (at least one [[scaler.targets]] is required)");
}

TEST_CASE("errors: empty or comment-only file is one clear error", "[config][errors]") {
  auto empty = parse_lb_config("", "lb.toml");
  REQUIRE(empty.errors.size() == 1);
  CHECK(empty.errors[0].str() == "lb.toml: the file is empty (expected at least one [[listeners]] and one [[pools]])");
  auto comments = parse_scaler_config("# nothing\n\n   # here\n", "scaler.toml");
  REQUIRE(comments.errors.size() == 1);
  CHECK(comments.errors[0].str() ==
        "scaler.toml: the file is empty (expected a [scaler] table with [[scaler.targets]] and a [driver] table)");
}

TEST_CASE("warnings do not fail the load", "[config][errors]") {
  auto l = parse_lb_config(std::string(kMinimalListener) + "[[pools]]\nname = \"app\"\nhash_key = \"uri\"\n", "lb.toml");
  INFO(all(l.errors));
  REQUIRE(l.ok());
  REQUIRE(l.warnings.size() == 2);
  CHECK(l.warnings[0].str() ==
        "lb.toml:5:1: pools[0]: pool \"app\" has no backends and is not managed: it answers 503 until backends are added");
  CHECK(l.warnings[1].str() == "lb.toml:7:12: pools[0].hash_key: ignored: balance is \"round_robin\", not \"hash\"");
}

TEST_CASE("errors: control characters in quoted values are escaped, one line per error", "[config][errors]") {
  auto l = parse_lb_config(lb("balance = \"\"\"round\nrobin\"\"\"\n"), "lb.toml");
  expect_only_error(l, kExtraLine, 11, "pools[0].balance",
                    "unknown value \"round\\nrobin\" (expected one of round_robin, weighted_round_robin, least_conn, "
                    "hash, response_time, random)");
  CHECK(l.errors[0].str().find('\n') == std::string::npos);
}

TEST_CASE("errors: a flood of errors is capped with a count of the rest", "[config][errors]") {
  std::string text = lb("[runtime]\n");
  for (int i = 0; i < 250; ++i) text += "unknown" + std::to_string(i) + " = 1\n";
  auto l = parse_lb_config(text, "lb.toml");
  REQUIRE(l.errors.size() == 201);
  CHECK(l.errors[0].line == kExtraLine + 1);
  CHECK(l.errors[199].line == kExtraLine + 200);
  CHECK(l.errors[200].str() == "lb.toml: ... and 50 more not shown");
}

TEST_CASE("errors: absurd numbers in durations are errors, not exceptions", "[config][errors]") {
  std::string digits = "1" + std::string(400, '0');
  auto l = parse_lb_config(lb("[runtime]\nshutdown_grace = \"" + digits + "s\"\n"), "lb.toml");
  expect_only_error(l, kExtraLine + 1, 18, "runtime.shutdown_grace", "duration \"" + digits + "s\" is too large");
}

TEST_CASE("errors: listen addresses that overlap through a wildcard", "[config][errors]") {
  auto two = [](const char* a, const char* b) {
    return parse_lb_config(std::string("[[listeners]]\nname = \"a\"\nlisten = \"") + a +
                               "\"\npool = \"app\"\n[[listeners]]\nname = \"b\"\nlisten = \"" + b + "\"\npool = \"app\"\n" +
                               kMinimalPool,
                           "lb.toml");
  };
  CHECK(!two("0.0.0.0:80", "127.0.0.1:80").ok());
  CHECK(!two("127.0.0.1:80", "0.0.0.0:80").ok());
  CHECK(!two("[::]:80", "127.0.0.1:80").ok());
  CHECK(!two("[::1]:80", "[::]:80").ok());
  CHECK(!two("0.0.0.0:80", "localhost:80").ok());
  CHECK(two("0.0.0.0:80", "[::1]:80").ok());
  CHECK(two("127.0.0.1:80", "127.0.0.2:80").ok());
  CHECK(two("0.0.0.0:80", "0.0.0.0:81").ok());
  auto admin = parse_lb_config("[admin]\nlisten = \"127.0.0.1:9000\"\n[[listeners]]\nname = \"a\"\nlisten = \"0.0.0.0:9000\"\n"
                               "pool = \"app\"\n" + std::string(kMinimalPool),
                               "lb.toml");
  expect_only_error(admin, 5, 10, "listeners[0].listen",
                    "address 0.0.0.0:9000 is also the admin address (admin.listen = \"127.0.0.1:9000\")");
}
