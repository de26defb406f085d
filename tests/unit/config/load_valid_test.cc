// Valid configs: every section, every key, read into the structs (and defaults where absent).
#include <catch2/catch.hpp>

#include "config/load.h"
#include "helpers.h"

using namespace ebb::config;
using namespace ebb::config::test;
using namespace std::chrono_literals;

TEST_CASE("lb: minimal config gets every SPEC default", "[config][lb]") {
  auto l = parse_lb_config(std::string(kMinimalListener) + kMinimalPool, "lb.toml");
  INFO(all(l.errors));
  REQUIRE(l.ok());
  const LbConfig& c = l.config;
  CHECK(c.path == "lb.toml");
  CHECK(c.runtime.workers == 0);
  CHECK(c.runtime.max_connections == 100000);
  CHECK(c.runtime.shutdown_grace == 30s);
  CHECK(c.runtime.log_level == LogLevel::info);
  CHECK(c.runtime.access_log == "off");
  CHECK(c.admin.listen == ebb::HostPort{"127.0.0.1", 9901});
  CHECK(c.admin.token_file.empty());
  REQUIRE(c.listeners.size() == 1);
  CHECK(c.listeners[0].mode == ListenerMode::http);
  CHECK(!c.listeners[0].tls);
  CHECK(c.listeners[0].max_header_bytes == 64 * 1024);
  CHECK(c.listeners[0].header_timeout == 10s);
  CHECK(c.listeners[0].max_body_bytes == 0);
  REQUIRE(c.pools.size() == 1);
  const Pool& p = c.pools[0];
  CHECK(p.balance == Balance::round_robin);
  CHECK(p.hash_key.kind == HashKey::Kind::source_ip);
  CHECK(p.sticky_ttl == 1h);
  CHECK(p.connect_timeout == 3s);
  CHECK(p.response_timeout == 60s);
  CHECK(p.idle_timeout == 60s);
  CHECK(p.retries == 1);
  CHECK(p.drain_timeout == 30s);
  CHECK(p.slow_start == 0s);
  CHECK(!p.managed);
  REQUIRE(p.backends.size() == 1);
  CHECK(p.backends[0].address == ebb::HostPort{"127.0.0.1", 9001});
  CHECK(p.backends[0].weight == 1);
  CHECK(p.health.check == HealthCheck::http);
  CHECK(p.health.path == "/healthz");
  CHECK(p.health.expect_min == 200);
  CHECK(p.health.expect_max == 399);
  CHECK(p.health.interval == 2s);
  CHECK(p.health.timeout == 1s);
  CHECK(p.health.healthy_threshold == 2);
  CHECK(p.health.unhealthy_threshold == 3);
  CHECK(p.health.passive_failures == 5);
}

TEST_CASE("lb: [runtime] and [admin]", "[config][lb]") {
  TempFile token("s3cret\n", "token");
  auto l = parse_lb_config(R"(
[runtime]
workers = 4
max_connections = 5000
shutdown_grace = "1m30s"
log_level = "debug"
access_log = "stdout"
[admin]
listen = "[::1]:9999"
token_file = ")" + token.path() + "\"\n" + kMinimalListener + kMinimalPool,
                           "lb.toml");
  INFO(all(l.errors));
  REQUIRE(l.ok());
  CHECK(l.config.runtime.workers == 4);
  CHECK(l.config.runtime.max_connections == 5000);
  CHECK(l.config.runtime.shutdown_grace == 90s);
  CHECK(l.config.runtime.log_level == LogLevel::debug);
  CHECK(l.config.runtime.access_log == "stdout");
  CHECK(l.config.admin.listen == ebb::HostPort{"::1", 9999});
  CHECK(l.config.admin.token_file == token.path());
}

TEST_CASE("lb: listeners with tls, sni and routes", "[config][lb]") {
  TempFile cert("-----BEGIN CERTIFICATE-----\n", "site.pem");
  TempFile key("-----BEGIN PRIVATE KEY-----\n", "site.key");
  auto l = parse_lb_config(R"(
[[listeners]]
name = "web"
listen = "0.0.0.0:8443"
mode = "http"
pool = "app"
proxy_protocol = true
max_header_bytes = 8192
header_timeout = "3s"
max_body_bytes = 1048576
  [listeners.tls]
  cert = ")" + cert.path() + R"("
  key = ")" + key.path() + R"("
  sni = [ { cert = ")" + cert.path() + R"(", key = ")" + key.path() + R"(" } ]
  min_version = "1.3"
  session_tickets = false
  alpn = ["http/1.1", "http/1.0"]
  [[listeners.routes]]
  host = "*.example.com"
  path_prefix = "/api/"
  pool = "api"
  [[listeners.routes]]
  path_prefix = "/static/"
  pool = "app"
[[listeners]]
name = "raw"
listen = "[::]:5432"
mode = "tcp"
pool = "api"
[[pools]]
name = "app"
backends = ["127.0.0.1:1"]
[[pools]]
name = "api"
backends = ["127.0.0.1:2"]
)",
                           "lb.toml");
  INFO(all(l.errors));
  REQUIRE(l.ok());
  REQUIRE(l.config.listeners.size() == 2);
  const Listener& w = l.config.listeners[0];
  CHECK(w.name == "web");
  CHECK(w.listen == ebb::HostPort{"0.0.0.0", 8443});
  CHECK(w.proxy_protocol);
  CHECK(w.max_header_bytes == 8192);
  CHECK(w.header_timeout == 3s);
  CHECK(w.max_body_bytes == 1048576);
  REQUIRE(w.tls);
  CHECK(w.tls->default_cert.cert == cert.path());
  CHECK(w.tls->default_cert.key == key.path());
  REQUIRE(w.tls->sni.size() == 1);
  CHECK(w.tls->sni[0].key == key.path());
  CHECK(w.tls->min_version == "1.3");
  CHECK(!w.tls->session_tickets);
  CHECK(w.tls->alpn == std::vector<std::string>{"http/1.1", "http/1.0"});
  REQUIRE(w.routes.size() == 2);
  CHECK(w.routes[0].host == "*.example.com");
  CHECK(w.routes[0].path_prefix == "/api/");
  CHECK(w.routes[0].pool == "api");
  CHECK(w.routes[1].host.empty());
  CHECK(w.routes[1].pool == "app");
  CHECK(l.config.listeners[1].mode == ListenerMode::tcp);
  CHECK(l.config.listeners[1].listen == ebb::HostPort{"::", 5432});
}

TEST_CASE("lb: pools with every key and health", "[config][lb]") {
  TempFile secret("k", "secret");
  auto l = parse_lb_config(std::string(kMinimalListener) + R"(
[[pools]]
name = "app"
balance = "hash"
hash_key = "cookie:session"
sticky_cookie = "ebb_app"
sticky_ttl = "2h"
sticky_secret_file = ")" + secret.path() + R"("
connect_timeout = "250ms"
response_timeout = "5s"
idle_timeout = "2m"
retries = 3
drain_timeout = "10s"
slow_start = "30s"
managed = true
backends = [
  { address = "127.0.0.1:9001", weight = 1 },
  { address = "app2.internal:9001", weight = 2 },
  "[::1]:9003",
]
  [pools.health]
  check = "tcp"
  path = "/status"
  host = "app.internal"
  expect = "204"
  interval = "5s"
  timeout = "500ms"
  healthy_threshold = 1
  unhealthy_threshold = 7
  passive_failures = 0
)",
                           "lb.toml");
  INFO(all(l.errors));
  REQUIRE(l.ok());
  CHECK(l.warnings.empty());
  const Pool& p = l.config.pools[0];
  CHECK(p.balance == Balance::hash);
  CHECK(p.hash_key.kind == HashKey::Kind::cookie);
  CHECK(p.hash_key.name == "session");
  CHECK(p.sticky_cookie == "ebb_app");
  CHECK(p.sticky_ttl == 2h);
  CHECK(p.sticky_secret_file == secret.path());
  CHECK(p.connect_timeout == 250ms);
  CHECK(p.response_timeout == 5s);
  CHECK(p.idle_timeout == 2min);
  CHECK(p.retries == 3);
  CHECK(p.drain_timeout == 10s);
  CHECK(p.slow_start == 30s);
  CHECK(p.managed);
  REQUIRE(p.backends.size() == 3);
  CHECK(p.backends[1].address == ebb::HostPort{"app2.internal", 9001});
  CHECK(p.backends[1].weight == 2);
  CHECK(p.backends[2].address == ebb::HostPort{"::1", 9003});
  CHECK(p.backends[2].weight == 1);
  CHECK(p.health.check == HealthCheck::tcp);
  CHECK(p.health.path == "/status");
  CHECK(p.health.host == "app.internal");
  CHECK(p.health.expect_min == 204);
  CHECK(p.health.expect_max == 204);
  CHECK(p.health.interval == 5s);
  CHECK(p.health.timeout == 500ms);
  CHECK(p.health.healthy_threshold == 1);
  CHECK(p.health.unhealthy_threshold == 7);
  CHECK(p.health.passive_failures == 0);
}

TEST_CASE("lb: every balance and hash_key value", "[config][lb]") {
  for (auto [word, b] : {std::pair{"round_robin", Balance::round_robin},
                         std::pair{"weighted_round_robin", Balance::weighted_round_robin},
                         std::pair{"least_conn", Balance::least_conn}, std::pair{"hash", Balance::hash},
                         std::pair{"response_time", Balance::response_time}, std::pair{"random", Balance::random}}) {
    auto l = parse_lb_config(std::string(kMinimalListener) + kMinimalPool + "balance = \"" + word + "\"\n", "lb.toml");
    INFO(word << "\n" << all(l.errors));
    REQUIRE(l.ok());
    CHECK(l.config.pools[0].balance == b);
    CHECK(std::string(to_string(b)) == word);
  }
  auto l = parse_lb_config(std::string(kMinimalListener) + kMinimalPool + "balance = \"hash\"\nhash_key = \"header:X-User\"\n",
                           "lb.toml");
  REQUIRE(l.ok());
  CHECK(l.config.pools[0].hash_key.kind == HashKey::Kind::header);
  CHECK(l.config.pools[0].hash_key.name == "X-User");
}

TEST_CASE("lb: relative file paths are relative to the config file's directory", "[config][lb]") {
  TempFile cfg(std::string("[admin]\ntoken_file = \"token\"\n") + kMinimalListener + kMinimalPool, "lb.toml");
  auto missing = load_lb_config(cfg.path());
  INFO(all(missing.errors));
  CHECK(!missing.ok());  // no token file next to the config yet
  const std::string token = cfg.dir() + "/token";
  std::ofstream(token) << "t";
  auto l = load_lb_config(cfg.path());
  std::remove(token.c_str());
  INFO(all(l.errors));
  REQUIRE(l.ok());
  CHECK(l.config.admin.token_file == token);
  CHECK(l.config.path == cfg.path());
}

TEST_CASE("scaler: full config with targets, schedule and process driver", "[config][scaler]") {
  TempFile token("t", "token");
  auto l = parse_scaler_config(R"(
[scaler]
pool = "app"
lb_admin = ["http://127.0.0.1:9901", "http://[::1]:9901/"]
token_file = ")" + token.path() + R"("
metrics_listen = "127.0.0.1:9902"
state_file = "/var/lib/ebb/scaler-app.json"
min = 2
max = 10
interval = "10s"
scale_out_cooldown = "30s"
scale_in_cooldown = "120s"
warmup = "20s"
health_grace = "30s"
scale_in_step = 2
drain_timeout = "45s"
[[scaler.targets]]
metric = "cpu_percent"
target = 60.0
[[scaler.targets]]
metric = "latency_p95_ms"
target = 250
[[scaler.schedule]]
cron = "0 8 * * 1-5"
duration = "10h"
min = 4
[driver]
type = "process"
command = ["/usr/bin/python3", "-m", "http.server", "{port}", "--bind", "127.0.0.1"]
ports = "9100-9199"
host = "127.0.0.1"
[simulate]
service_ms = 20
capacity_rps = 250.5
)",
                               "scaler.toml");
  INFO(all(l.errors));
  REQUIRE(l.ok());
  CHECK(l.warnings.empty());
  const ScalerConfig& c = l.config;
  CHECK(c.pool == "app");
  CHECK(c.lb_admin == std::vector<std::string>{"http://127.0.0.1:9901", "http://[::1]:9901"});
  CHECK(c.token_file == token.path());
  CHECK(c.metrics_listen == ebb::HostPort{"127.0.0.1", 9902});
  CHECK(c.state_file == "/var/lib/ebb/scaler-app.json");
  CHECK(c.min == 2);
  CHECK(c.max == 10);
  CHECK(c.interval == 10s);
  CHECK(c.scale_out_cooldown == 30s);
  CHECK(c.scale_in_cooldown == 120s);
  CHECK(c.warmup == 20s);
  CHECK(c.health_grace == 30s);
  CHECK(c.scale_in_step == 2);
  CHECK(c.drain_timeout == 45s);
  REQUIRE(c.targets.size() == 2);
  CHECK(c.targets[0].metric == ScalerMetric::cpu_percent);
  CHECK(c.targets[0].target == 60.0);
  CHECK(c.targets[1].metric == ScalerMetric::latency_p95_ms);
  CHECK(c.targets[1].target == 250.0);
  REQUIRE(c.schedule.size() == 1);
  CHECK(c.schedule[0].cron == "0 8 * * 1-5");
  CHECK(c.schedule[0].duration == 10h);
  CHECK(c.schedule[0].min == 4);
  CHECK(c.schedule[0].when.hour.test(8));
  CHECK(!c.schedule[0].when.day_of_week.test(0));
  CHECK(c.driver.type == DriverType::process);
  CHECK(c.driver.command.size() == 6);
  CHECK(c.driver.command[3] == "{port}");
  CHECK(c.driver.port_min == 9100);
  CHECK(c.driver.port_max == 9199);
  CHECK(c.driver.host == "127.0.0.1");
  CHECK(c.simulate.service_ms == 20.0);
  CHECK(c.simulate.capacity_rps == 250.5);
}

TEST_CASE("scaler: exec driver", "[config][scaler]") {
  auto l = parse_scaler_config(R"(
[scaler]
pool = "app"
[[scaler.targets]]
metric = "requests_per_backend"
target = 100
[driver]
type = "exec"
launch = ["/usr/lib/ebb/drivers/docker-launch"]
terminate = ["/usr/lib/ebb/drivers/docker-terminate", "{address}"]
cpu = ["/usr/lib/ebb/drivers/docker-cpu", "{address}"]
exec_timeout = "5s"
)",
                               "scaler.toml");
  INFO(all(l.errors));
  REQUIRE(l.ok());
  const Driver& d = l.config.driver;
  CHECK(d.type == DriverType::exec);
  CHECK(d.launch == std::vector<std::string>{"/usr/lib/ebb/drivers/docker-launch"});
  CHECK(d.terminate.size() == 2);
  CHECK(d.cpu.size() == 2);
  CHECK(d.exec_timeout == 5s);
  // defaults of the rest of [scaler]
  CHECK(l.config.lb_admin == std::vector<std::string>{"http://127.0.0.1:9901"});
  CHECK(l.config.min == 2);
  CHECK(l.config.max == 10);
  CHECK(l.config.scale_in_step == 1);
  CHECK(l.config.drain_timeout == 30s);
  CHECK(l.config.simulate.service_ms == 50.0);
  CHECK(l.config.simulate.capacity_rps == 100.0);
}

TEST_CASE("scaler: systemd driver", "[config][scaler]") {
  auto l = parse_scaler_config(R"(
[scaler]
pool = "app"
max = 4
[[scaler.targets]]
metric = "active_per_backend"
target = 8
[driver]
type = "systemd"
unit = "web@{port}.service"
systemctl = ["/usr/local/bin/fake-systemctl", "--user"]
ports = "8000-8003"
host = "::1"
)",
                               "scaler.toml");
  INFO(all(l.errors));
  REQUIRE(l.ok());
  const Driver& d = l.config.driver;
  CHECK(d.type == DriverType::systemd);
  CHECK(d.unit == "web@{port}.service");
  CHECK(d.systemctl == std::vector<std::string>{"/usr/local/bin/fake-systemctl", "--user"});
  CHECK(d.port_min == 8000);
  CHECK(d.port_max == 8003);
  CHECK(d.host == "::1");
}

TEST_CASE("the example configs in packaging/examples are valid", "[config][examples]") {
  const std::string dir = EBB_SOURCE_DIR "/packaging/examples/";
  auto lb = load_lb_config(dir + "lb.toml");
  INFO(all(lb.errors));
  CHECK(lb.ok());
  CHECK(lb.warnings.empty());
  auto sc = load_scaler_config(dir + "scaler.toml");
  INFO(all(sc.errors));
  CHECK(sc.ok());
  CHECK(sc.warnings.empty());
}
