// Drivers with real child processes: shell scripts for exec, python3 -m http.server for process,
// a shell double for systemctl (the only double). Every wait is bounded by a deadline.
#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <vector>

#include "common/uv.h"
#include "scaler/drivers/cpu_sampler.h"
#include "scaler/drivers/exec_driver.h"
#include "scaler/drivers/process_driver.h"
#include "scaler/drivers/systemd_driver.h"

using namespace ebb::scaler;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

// Runs the loop until `done()` or the deadline; a 5 ms timer keeps the loop turning.
bool run_until(uv_loop_t* loop, const std::function<bool()>& done, std::chrono::milliseconds deadline = 10s) {
  ebb::UvHandle<uv_timer_t> tick;
  uv_timer_init(loop, tick.get());
  tick.mark_initialized();
  uv_timer_start(tick.get(), [](uv_timer_t*) {}, 5, 5);
  const auto end = std::chrono::steady_clock::now() + deadline;
  while (!done() && std::chrono::steady_clock::now() < end) uv_run(loop, UV_RUN_ONCE);
  return done();
}

struct TempDir {
  fs::path path;
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "ebb-scaler-test-XXXXXX").string();
    path = ::mkdtemp(tmpl.data());
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  std::string script(const std::string& name, const std::string& body) const {
    auto p = path / name;
    std::ofstream(p) << "#!/bin/sh\n" << body << "\n";
    fs::permissions(p, fs::perms::owner_all);
    return p.string();
  }
  std::string read(const std::string& name) const {
    std::ifstream in(path / name);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }
};

bool port_open(uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  ::close(fd);
  return ok;
}

bool port_bindable(uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  ::close(fd);
  return ok;
}

// The first of `n` consecutive ports that are all free now. Below the kernel's ephemeral range
// (32768+), so the outgoing connections of tests running in parallel never take one of them, and
// below the integration tests' ports (ebbtest.py: 20000-32000), which do not know of these.
uint16_t free_port_range(uint16_t n) {
  std::srand(static_cast<unsigned>(::getpid()));
  for (int attempt = 0; attempt < 200; ++attempt) {
    const auto base = static_cast<uint16_t>(10000 + std::rand() % 9000);
    bool all = true;
    for (uint16_t i = 0; i < n && all; ++i) all = port_bindable(static_cast<uint16_t>(base + i));
    if (all) return base;
  }
  FAIL("no range of " << n << " free ports");
  return 0;
}

// Kills the children a failed REQUIRE would otherwise leave running.
struct ReapOnExit {
  std::vector<int> pids;
  ~ReapOnExit() {
    for (int pid : pids)  // only a child not yet reaped: a reaped pid may belong to someone else now
      if (::waitpid(pid, nullptr, WNOHANG) == 0 && ::kill(pid, SIGKILL) == 0) ::waitpid(pid, nullptr, 0);
  }
};

// Gone, or a zombie (collected here: an adopted process is still this test's child, which a
// restarted scaler's would not be).
bool pid_gone(int pid) {
  ::waitpid(pid, nullptr, WNOHANG);
  return ::kill(pid, 0) != 0 && errno == ESRCH;
}

const RetryPolicy kFastRetry{3, 20ms};

}  // namespace

TEST_CASE("cpu parsing: /proc stat, cgroup cpu.stat, script output") {
  // comm with blanks and parentheses; utime = 250, stime = 50 ticks
  const std::string stat = "4242 (my (odd) server) S 1 4242 4242 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 1 0 100 0 0";
  auto s = parse_proc_stat_cpu_seconds(stat, 100);
  REQUIRE(s.ok());
  CHECK(*s == Approx(3.0));
  CHECK_FALSE(parse_proc_stat_cpu_seconds("garbage", 100).ok());
  CHECK_FALSE(parse_proc_stat_cpu_seconds("1 (x) S 1 2", 100).ok());

  auto c = parse_cgroup_cpu_seconds("usage_usec 2500000\nuser_usec 2000000\nsystem_usec 500000\n");
  REQUIRE(c.ok());
  CHECK(*c == Approx(2.5));
  CHECK_FALSE(parse_cgroup_cpu_seconds("user_usec 1\n").ok());

  CpuSampler sampler;
  CHECK_FALSE(sampler.sample(1.0, 10.0).has_value());
  CHECK(*sampler.sample(1.5, 11.0) == Approx(50.0));
  CHECK(*sampler.sample(3.5, 12.0) == Approx(200.0));  // two cores busy
  CHECK_FALSE(sampler.sample(4.0, 12.0).has_value());  // no time passed

  struct Row { const char* out; std::optional<double> want; };
  const Row rows[] = {{"42", 42}, {"42.5%\n", 42.5}, {"  7 %  ", 7}, {"", std::nullopt}, {"abc", std::nullopt},
                      {"-3", std::nullopt}, {"nan", std::nullopt}, {"12 13", std::nullopt}};
  for (const auto& r : rows) {
    INFO(r.out);
    auto v = parse_cpu_output(r.out);
    CHECK(v.ok() == r.want.has_value());
    if (r.want && v.ok()) CHECK(*v == Approx(*r.want));
  }
  CHECK(*parse_launch_output("starting...\n10.0.0.7:8080\n\n") == "10.0.0.7:8080");
  CHECK(*parse_launch_output("[::1]:8080") == "[::1]:8080");
  CHECK_THAT(parse_launch_output("").error(), Catch::Contains("printed no address"));
  CHECK_THAT(parse_launch_output("ok\n").error(), Catch::Contains("not host:port"));
}

TEST_CASE("commands: output, exit status, timeout, missing binary, retry with back-off") {
  ebb::UvLoop loop;
  TempDir dir;
  std::optional<ebb::Result<CommandResult>> got;
  auto capture = [&](ebb::Result<CommandResult> r) { got = std::move(r); };

  run_command(loop.get(), {"/bin/sh", "-c", "echo hello; echo world"}, 5s, capture);
  CHECK_FALSE(got.has_value());  // never re-entrant
  REQUIRE(run_until(loop.get(), [&] { return got.has_value(); }));
  REQUIRE(got->ok());
  CHECK((*got)->out == "hello\nworld\n");
  CHECK((*got)->exit_status == 0);

  got.reset();
  run_command(loop.get(), {"/bin/sh", "-c", "exit 3"}, 5s, capture);
  REQUIRE(run_until(loop.get(), [&] { return got.has_value(); }));
  CHECK((*got)->exit_status == 3);

  got.reset();
  run_command(loop.get(), {"/bin/sleep", "10"}, 100ms, capture);
  REQUIRE(run_until(loop.get(), [&] { return got.has_value(); }, 5s));
  REQUIRE_FALSE(got->ok());
  CHECK_THAT(got->error(), Catch::Contains("timed out"));

  got.reset();
  run_command(loop.get(), {"/nonexistent/binary"}, 5s, capture);
  CHECK_FALSE(got.has_value());
  REQUIRE(run_until(loop.get(), [&] { return got.has_value(); }));
  CHECK_THAT(got->error(), Catch::Contains("cannot run /nonexistent/binary"));

  // fails twice, then succeeds
  const std::string flaky = dir.script("flaky", "n=$(cat \"$0.count\" 2>/dev/null || echo 0); n=$((n+1)); "
                                                "echo $n > \"$0.count\"; [ $n -ge 3 ] && echo done && exit 0; exit 1");
  got.reset();
  run_with_retry(loop.get(), {flaky}, 5s, kFastRetry, nullptr, capture);
  REQUIRE(run_until(loop.get(), [&] { return got.has_value(); }));
  REQUIRE(got->ok());
  CHECK((*got)->out == "done\n");
  CHECK(dir.read("flaky.count") == "3\n");

  got.reset();
  run_with_retry(loop.get(), {"/bin/sh", "-c", "exit 7"}, 5s, kFastRetry, nullptr, capture);
  REQUIRE(run_until(loop.get(), [&] { return got.has_value(); }));
  CHECK_THAT(got->error(), Catch::Contains("exit status 7 (after 3 attempts)"));

  CHECK(substitute({"x{port}y{port}", "{address}", "{nope}"}, {{"port", "80"}, {"address", "h:80"}}) ==
        std::vector<std::string>{"x80y80", "h:80", "{nope}"});
}

TEST_CASE("exec driver: launch prints host:port, terminate and cpu get {address}, failures are retried errors") {
  ebb::UvLoop loop;
  TempDir dir;
  ebb::config::Driver cfg;
  cfg.type = ebb::config::DriverType::exec;
  cfg.launch = {dir.script("launch", "echo launching >&2; echo 'booting'; echo 127.0.0.1:9555")};
  cfg.terminate = {dir.script("terminate", "echo \"$1 $2\" >> \"$0.log\""), "{address}", "{port}"};
  cfg.cpu = {dir.script("cpu", "echo \"$1\" >> \"$0.log\"; echo 42.5%"), "{address}"};
  cfg.exec_timeout = 2s;
  ExecDriver d(loop.get(), cfg, DriverOptions{kFastRetry});

  std::optional<ebb::Result<Instance>> launched;
  d.launch([&](ebb::Result<Instance> r) { launched = std::move(r); });
  REQUIRE(run_until(loop.get(), [&] { return launched.has_value(); }));
  REQUIRE(launched->ok());
  CHECK((*launched)->address == "127.0.0.1:9555");

  std::optional<ebb::Result<double>> cpu;
  d.cpu_percent(**launched, [&](ebb::Result<double> r) { cpu = r; });
  REQUIRE(run_until(loop.get(), [&] { return cpu.has_value(); }));
  REQUIRE(cpu->ok());
  CHECK(**cpu == Approx(42.5));
  CHECK(dir.read("cpu.log") == "127.0.0.1:9555\n");

  std::optional<ebb::Result<void>> stopped;
  d.terminate(**launched, [&](ebb::Result<void> r) { stopped = r; });
  REQUIRE(run_until(loop.get(), [&] { return stopped.has_value(); }));
  CHECK(stopped->ok());
  CHECK(dir.read("terminate.log") == "127.0.0.1:9555 9555\n");

  // a launch script printing nonsense, one exiting non-zero, one hanging: errors, not crashes
  struct Row { std::string body; const char* fragment; };
  const Row rows[] = {
      {"echo not-an-address", "not host:port"},
      {"echo 127.0.0.1:1; exit 2", "exit status 2"},
      {"exec sleep 10", "timed out"},
  };
  for (const auto& r : rows) {
    INFO(r.body);
    auto bad = cfg;
    bad.launch = {dir.script("bad", r.body)};
    bad.exec_timeout = 200ms;
    ExecDriver b(loop.get(), bad, DriverOptions{kFastRetry});
    launched.reset();
    b.launch([&](ebb::Result<Instance> x) { launched = std::move(x); });
    REQUIRE(run_until(loop.get(), [&] { return launched.has_value(); }));
    REQUIRE_FALSE(launched->ok());
    CHECK_THAT(launched->error(), Catch::Contains(r.fragment));
    CHECK_THAT(launched->error(), Catch::Contains("after 3 attempts"));
  }

  // no cpu script: missing, immediately
  auto nocpu = cfg;
  nocpu.cpu.clear();
  ExecDriver n(loop.get(), nocpu, DriverOptions{kFastRetry});
  cpu.reset();
  n.cpu_percent(Instance{"127.0.0.1:9555", ""}, [&](ebb::Result<double> r) { cpu = r; });
  REQUIRE(run_until(loop.get(), [&] { return cpu.has_value(); }));
  CHECK_FALSE(cpu->ok());
}

TEST_CASE("process driver: spawns on a free port, measures CPU, stops, notices exits, re-adopts") {
  ebb::UvLoop loop;
  const uint16_t p0 = free_port_range(21);
  ReapOnExit reap;
  ebb::config::Driver cfg;
  cfg.type = ebb::config::DriverType::process;
  cfg.command = {"/usr/bin/python3", "-m", "http.server", "{port}", "--bind", "{host}"};
  cfg.host = "127.0.0.1";
  cfg.port_min = p0;
  cfg.port_max = static_cast<uint16_t>(p0 + 20);
  DriverOptions opts;
  opts.stop_grace = 3s;

  // occupy the first port of the range: the driver must skip it
  int blocker = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(p0);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(blocker, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  ::listen(blocker, 1);

  auto driver = std::make_unique<ProcessDriver>(loop.get(), cfg, opts);
  std::vector<std::pair<Instance, std::string>> exits;
  driver->on_exit([&](const Instance& i, const std::string& why) { exits.emplace_back(i, why); });

  std::vector<Instance> up;
  for (int i = 0; i < 2; ++i) {
    std::optional<ebb::Result<Instance>> r;
    driver->launch([&](ebb::Result<Instance> x) { r = std::move(x); });
    REQUIRE(run_until(loop.get(), [&] { return r.has_value(); }));
    REQUIRE(r->ok());
    up.push_back(**r);
    reap.pids.push_back(std::stoi((*r)->handle));
  }
  ::close(blocker);
  CHECK(up[0].address == "127.0.0.1:" + std::to_string(p0 + 1));
  CHECK(up[1].address == "127.0.0.1:" + std::to_string(p0 + 2));
  REQUIRE(run_until(loop.get(), [&] { return port_open(p0 + 1) && port_open(p0 + 2); }));

  std::optional<ebb::Result<double>> cpu;
  driver->cpu_percent(up[0], [&](ebb::Result<double> r) { cpu = r; });
  REQUIRE(run_until(loop.get(), [&] { return cpu.has_value(); }));
  REQUIRE(cpu->ok());
  CHECK(**cpu >= 0.0);
  CHECK(**cpu < 400.0);

  // an instance killed from outside is reported through on_exit
  const int pid1 = std::stoi(up[1].handle);
  ::kill(pid1, SIGKILL);
  REQUIRE(run_until(loop.get(), [&] { return !exits.empty(); }));
  CHECK(exits[0].first.address == up[1].address);
  CHECK_THAT(exits[0].second, Catch::Contains("signal 9"));
  CHECK(driver->children() == 1);

  // the next launch (a replacement) takes a new port, not the dead instance's, though it is free
  {
    std::optional<ebb::Result<Instance>> r;
    driver->launch([&](ebb::Result<Instance> x) { r = std::move(x); });
    REQUIRE(run_until(loop.get(), [&] { return r.has_value(); }));
    REQUIRE(r->ok());
    reap.pids.push_back(std::stoi((*r)->handle));
    CHECK((*r)->address == "127.0.0.1:" + std::to_string(p0 + 3));
    std::optional<ebb::Result<void>> gone;
    driver->terminate(**r, [&](ebb::Result<void> x) { gone = x; });
    REQUIRE(run_until(loop.get(), [&] { return gone.has_value(); }));
    CHECK(gone->ok());
    CHECK(driver->children() == 1);
  }

  // a new driver (a restarted scaler) re-adopts the running one, refuses a wrong pid
  driver.reset();  // leaves the child running
  REQUIRE(run_until(loop.get(), [&] { return port_open(p0 + 1); }));
  ProcessDriver again(loop.get(), cfg, opts);
  std::optional<ebb::Result<void>> adopted;
  again.adopt(Instance{up[1].address, up[1].handle}, [&](ebb::Result<void> r) { adopted = r; });
  REQUIRE(run_until(loop.get(), [&] { return adopted.has_value(); }));
  CHECK_FALSE(adopted->ok());  // killed above
  adopted.reset();
  again.adopt(Instance{up[0].address, std::to_string(::getpid())}, [&](ebb::Result<void> r) { adopted = r; });
  REQUIRE(run_until(loop.get(), [&] { return adopted.has_value(); }));
  CHECK_THAT(adopted->error(), Catch::Contains("runs something else"));
  adopted.reset();
  again.adopt(up[0], [&](ebb::Result<void> r) { adopted = r; });
  REQUIRE(run_until(loop.get(), [&] { return adopted.has_value(); }));
  REQUIRE(adopted->ok());
  CHECK(again.children() == 1);

  // terminate: SIGTERM, the callback once it is gone, the port free again
  std::optional<ebb::Result<void>> stopped;
  again.terminate(up[0], [&](ebb::Result<void> r) { stopped = r; });
  REQUIRE(run_until(loop.get(), [&] { return stopped.has_value(); }));
  CHECK(stopped->ok());
  CHECK(pid_gone(std::stoi(up[0].handle)));
  CHECK_FALSE(port_open(p0 + 1));
  CHECK(again.children() == 0);
  // terminating something already gone is fine
  stopped.reset();
  again.terminate(up[0], [&](ebb::Result<void> r) { stopped = r; });
  REQUIRE(run_until(loop.get(), [&] { return stopped.has_value(); }));
  CHECK(stopped->ok());

  // a command that does not exist is an error from launch
  auto bad = cfg;
  bad.command = {"/nonexistent/server", "{port}"};
  ProcessDriver b(loop.get(), bad, opts);
  std::optional<ebb::Result<Instance>> r;
  b.launch([&](ebb::Result<Instance> x) { r = std::move(x); });
  REQUIRE(run_until(loop.get(), [&] { return r.has_value(); }));
  CHECK_THAT(r->error(), Catch::Contains("cannot start /nonexistent/server"));
}

TEST_CASE("process driver: a child that ignores SIGTERM is killed after stop_grace") {
  ebb::UvLoop loop;
  const uint16_t p0 = free_port_range(1);
  ebb::config::Driver cfg;
  cfg.command = {"/bin/sh", "-c", "trap '' TERM; while :; do sleep 0.05; done", "{port}"};
  cfg.port_min = p0;
  cfg.port_max = p0;
  DriverOptions opts;
  opts.stop_grace = 200ms;
  ProcessDriver d(loop.get(), cfg, opts);
  std::optional<ebb::Result<Instance>> r;
  d.launch([&](ebb::Result<Instance> x) { r = std::move(x); });
  REQUIRE(run_until(loop.get(), [&] { return r.has_value(); }));
  REQUIRE(r->ok());
  ReapOnExit reap{{std::stoi((*r)->handle)}};
  std::optional<ebb::Result<void>> stopped;
  d.terminate(**r, [&](ebb::Result<void> x) { stopped = x; });
  REQUIRE(run_until(loop.get(), [&] { return stopped.has_value(); }, 5s));
  CHECK(stopped->ok());
  CHECK(pid_gone(std::stoi((*r)->handle)));
}

TEST_CASE("systemd driver: systemctl start/stop/show/is-active through a double, CPU from the cgroup") {
  ebb::UvLoop loop;
  TempDir dir;
  fs::create_directories(dir.path / "cg" / "test.slice");
  // the double logs its arguments; `show` names a cgroup under the test's cgroup root; units
  // whose name contains "broken" fail to start
  const std::string double_path = dir.script(
      "systemctl",
      "echo \"$*\" >> \"$0.log\"\n"
      "case \"$1\" in\n"
      "  start) case \"$2\" in *broken*) exit 1;; esac; mkdir -p \"$(dirname \"$0\")/cg/test.slice/$2\"; "
      "printf 'usage_usec 1000000\\n' > \"$(dirname \"$0\")/cg/test.slice/$2/cpu.stat\";;\n"
      "  stop) rm -rf \"$(dirname \"$0\")/cg/test.slice/$2\";;\n"
      "  show) echo \"/test.slice/$5\";;\n"
      "  is-active) [ -d \"$(dirname \"$0\")/cg/test.slice/$2\" ] && echo active && exit 0; echo inactive; exit 3;;\n"
      "esac\n");
  ebb::config::Driver cfg;
  cfg.type = ebb::config::DriverType::systemd;
  cfg.unit = "web@{port}.service";
  cfg.host = "127.0.0.1";
  cfg.port_min = 9300;
  cfg.port_max = 9301;
  cfg.systemctl = {double_path};
  DriverOptions opts{kFastRetry};
  opts.cgroup_root = (dir.path / "cg").string();
  SystemdDriver d(loop.get(), cfg, opts);

  std::optional<ebb::Result<Instance>> r;
  d.launch([&](ebb::Result<Instance> x) { r = std::move(x); });
  REQUIRE(run_until(loop.get(), [&] { return r.has_value(); }));
  REQUIRE(r->ok());
  CHECK((*r)->address == "127.0.0.1:9300");
  CHECK((*r)->handle == "web@9300.service");
  const Instance inst = **r;

  // CPU: the first sample sets the baseline; then 0.5 s more CPU time
  std::optional<ebb::Result<double>> cpu;
  d.cpu_percent(inst, [&](ebb::Result<double> x) { cpu = x; });
  REQUIRE(run_until(loop.get(), [&] { return cpu.has_value(); }));
  CHECK_FALSE(cpu->ok());
  std::ofstream(dir.path / "cg" / "test.slice" / "web@9300.service" / "cpu.stat") << "usage_usec 1500000\n";
  cpu.reset();
  d.cpu_percent(inst, [&](ebb::Result<double> x) { cpu = x; });
  REQUIRE(run_until(loop.get(), [&] { return cpu.has_value(); }));
  REQUIRE(cpu->ok());
  CHECK(**cpu > 0.0);

  // the second launch takes the next port; the range is then full
  r.reset();
  d.launch([&](ebb::Result<Instance> x) { r = std::move(x); });
  REQUIRE(run_until(loop.get(), [&] { return r.has_value(); }));
  CHECK((*r)->address == "127.0.0.1:9301");
  r.reset();
  d.launch([&](ebb::Result<Instance> x) { r = std::move(x); });
  REQUIRE(run_until(loop.get(), [&] { return r.has_value(); }));
  CHECK_FALSE(r->ok());

  std::optional<ebb::Result<void>> done;
  d.terminate(inst, [&](ebb::Result<void> x) { done = x; });
  REQUIRE(run_until(loop.get(), [&] { return done.has_value(); }));
  CHECK(done->ok());
  // adoption asks is-active: the stopped one is refused, the running one taken
  done.reset();
  SystemdDriver again(loop.get(), cfg, opts);
  again.adopt(inst, [&](ebb::Result<void> x) { done = x; });
  REQUIRE(run_until(loop.get(), [&] { return done.has_value(); }));
  CHECK_FALSE(done->ok());
  done.reset();
  again.adopt(Instance{"127.0.0.1:9301", "web@9301.service"}, [&](ebb::Result<void> x) { done = x; });
  REQUIRE(run_until(loop.get(), [&] { return done.has_value(); }));
  CHECK(done->ok());

  const std::string log = dir.read("systemctl.log");
  CHECK_THAT(log, Catch::Contains("start web@9300.service\n"));
  CHECK_THAT(log, Catch::Contains("show -p ControlGroup --value web@9300.service\n"));
  CHECK_THAT(log, Catch::Contains("stop web@9300.service\n"));
  CHECK_THAT(log, Catch::Contains("is-active web@9301.service\n"));

  // a unit that fails to start: retried, then an error
  auto broken = cfg;
  broken.unit = "broken@{port}.service";
  SystemdDriver b(loop.get(), broken, opts);
  r.reset();
  b.launch([&](ebb::Result<Instance> x) { r = std::move(x); });
  REQUIRE(run_until(loop.get(), [&] { return r.has_value(); }));
  REQUIRE_FALSE(r->ok());
  CHECK_THAT(r->error(), Catch::Contains("exit status 1 (after 3 attempts)"));
}
