#include "scaler/controller.h"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "common/log.h"
#include "common/token_file.h"
#include "scaler/metrics/prometheus_parser.h"
#include "scaler/policies/target_tracking.h"

namespace ebb::scaler {
namespace {

using nlohmann::json;

// Percent-encodes an address for a path segment ("[::1]:80" has reserved characters).
std::string path_segment(const std::string& s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '.' || c == '-' || c == '_' || c == ':' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

}  // namespace

Controller::Controller(uv_loop_t* loop, config::ScalerConfig cfg, std::unique_ptr<Driver> driver, ControllerOptions opts)
    : loop_(loop), cfg_(std::move(cfg)), driver_(std::move(driver)), opts_(opts), http_(loop), metrics_(cfg_) {}

Controller::~Controller() = default;

TimePoint Controller::now() const {
  return std::chrono::time_point_cast<Millis>(std::chrono::system_clock::now());
}

Result<void> Controller::start() {
  if (!cfg_.token_file.empty()) {
    auto token = read_token_file(cfg_.token_file);  // the same rules as ebb-lb's admin.token_file
    if (!token) return make_error(token.error());
    token_ = std::move(*token);
  }
  for (const auto& url : cfg_.lb_admin) {
    auto u = parse_http_url(url);
    if (!u) return make_error("lb_admin \"" + url + "\": " + u.error());
    Lb lb;
    lb.url = url;
    lb.target = u->target;
    lb.base = u->path == "/" ? "" : u->path;
    if (!lb.base.empty() && lb.base.back() == '/') lb.base.pop_back();
    lbs_.push_back(std::move(lb));
  }
  auto state = load_state(cfg_.state_file);
  if (!state) return make_error(state.error());
  if (!state->pool.empty() && state->pool != cfg_.pool)
    return make_error(cfg_.state_file + ": belongs to pool \"" + state->pool + "\", not \"" + cfg_.pool + "\"");
  policy_ = state->policy;
  for (const auto& rec : state->instances) {
    Tracked t{Instance{rec.address, rec.handle}, rec.launched_at, rec.draining, now(), false, std::nullopt};
    if (opts_.dry_run) {
      instances_.emplace(rec.address, t);
      continue;
    }
    ++adopting_;
    driver_->adopt(t.inst, [this, t](Result<void> r) {
      --adopting_;
      if (r) {
        log::info("re-adopted " + t.inst.address + (t.draining ? " (draining)" : ""));
        instances_.emplace(t.inst.address, t);
      } else {
        log::warn("not re-adopted: " + r.error() + "; removing it from the LBs");
        instances_.emplace(t.inst.address, t);
        forget(t.inst.address, true);
      }
      save();
    });
  }
  if (!opts_.dry_run) {
    driver_->on_exit([this](const Instance& inst, const std::string& why) {
      if (!instances_.count(inst.address)) return;
      const bool draining = instances_[inst.address].draining;
      log::warn("instance " + inst.address + " " + why + (draining ? "" : "; replacing it"));
      forget(inst.address, true);
      if (!draining) {
        metrics_.count_action("replace");
        launch_one("replace");
      }
    });
  }
  HttpServer::Options http;
  http.name = "metrics";
  http.idle_timeout_ms = 10000;
  http.max_connections = 64;
  http.keep_alive = false;  // one request per connection
  http.methods = {"GET", "HEAD"};
  server_ = std::make_unique<HttpServer>(loop_, std::move(http),
                                         [this](const HttpServer::Request& r) { return handle(r.method, r.target); });
  if (auto r = server_->listen(cfg_.metrics_listen); !r) return r;
  uv_timer_init(loop_, timer_.get());
  timer_.mark_initialized();
  timer_->data = this;
  const auto every = static_cast<uint64_t>(std::max<int64_t>(cfg_.interval.count(), 100));
  uv_timer_start(timer_.get(), [](uv_timer_t* t) { static_cast<Controller*>(t->data)->tick(); }, every, every);
  log::info("ebb-scaler: pool " + cfg_.pool + ", " + std::to_string(lbs_.size()) + " LB(s), driver " + driver_->type() +
            (opts_.dry_run ? ", dry run" : "") + "; decisions on http://" + cfg_.metrics_listen.host + ":" +
            std::to_string(server_->port()) + "/api/v1/decisions");
  return {};
}

void Controller::stop() {
  if (timer_.initialized()) uv_timer_stop(timer_.get());
  server_.reset();
  save();
}

void Controller::lb_call(Lb& lb, const std::string& method, const std::string& path, const std::string& body,
                         std::function<void(Result<HttpResponse>)> cb) {
  HttpRequest req;
  req.method = method;
  req.target = lb.target;
  req.path = lb.base + path;
  if (!token_.empty()) req.headers.emplace_back("Authorization", "Bearer " + token_);
  if (!body.empty()) req.headers.emplace_back("Content-Type", "application/json");
  req.body = body;
  req.timeout = std::min<Duration>(cfg_.interval, Duration{5000});
  http_.request(std::move(req), std::move(cb));
}

void Controller::tick() {
  if (ticking_) {
    log::warn("previous observation still running: skipping this evaluation");
    return;
  }
  ticking_ = true;
  pending_ = 1;  // released below, so answers arriving in order cannot finish the tick early
  const TimePoint at = now();
  for (auto& lb : lbs_) {
    pending_ += 2;
    Lb* l = &lb;
    lb_call(lb, "GET", "/metrics", "", [this, l, at](Result<HttpResponse> r) {
      l->scrape_ok = false;
      if (!r) {
        l->error = r.error();
      } else if (r->status != 200) {
        l->error = "GET " + l->url + "/metrics: status " + std::to_string(r->status);
      } else if (auto e = parse_prometheus_text(r->body); !e) {
        l->error = "GET " + l->url + "/metrics: " + e.error();
      } else {
        l->prev = std::move(l->cur);
        l->cur = extract_pool(*e, cfg_.pool, at);
        l->scrape_ok = true;
        l->error.clear();
      }
      if (!l->scrape_ok) l->cur.reset();  // the next good scrape starts a fresh delta
      if (--pending_ == 0) observed();
    });
    lb_call(lb, "GET", "/api/v1/pools/" + path_segment(cfg_.pool), "", [this, l](Result<HttpResponse> r) {
      l->pool_ok = false;
      if (r && r->status == 200) {
        try {
          auto j = json::parse(r->body);
          l->members.clear();
          for (const auto& b : j.at("backends"))
            l->members[b.at("address").get<std::string>()] = b.value("state", "unknown");
          l->pool_ok = true;
        } catch (const std::exception& e) {
          log::warn("GET " + l->url + "/api/v1/pools/" + cfg_.pool + ": bad JSON: " + e.what());
        }
      } else {
        log::warn("GET " + l->url + "/api/v1/pools/" + cfg_.pool + ": " +
                  (r ? "status " + std::to_string(r->status) : r.error()));
      }
      if (--pending_ == 0) observed();
    });
  }
  if (!opts_.dry_run) {
    for (auto& [addr, t] : instances_) {
      if (t.draining) continue;
      ++pending_;
      driver_->cpu_percent(t.inst, [this, a = addr](Result<double> r) {
        if (auto it = instances_.find(a); it != instances_.end()) it->second.cpu = r ? std::optional<double>(*r) : std::nullopt;
        if (--pending_ == 0) observed();
      });
    }
  }
  if (--pending_ == 0) observed();
}

void Controller::observed() {
  ticking_ = false;
  decide_and_act();
  if (opts_.dry_run) return;
  finish_drains();
  reconcile();
  replace_unhealthy();
}

void Controller::decide_and_act() {
  // Deciding before the driver has answered would count too few instances and launch duplicates.
  if (launching_ > 0 || adopting_ > 0) {
    log::info("waiting for " + std::to_string(launching_) + " launch(es) and " + std::to_string(adopting_) +
              " re-adoption(s) before deciding");
    return;
  }
  Observation obs;
  std::vector<std::map<std::string, BackendRates>> per_lb;
  for (auto& lb : lbs_) {
    if (!lb.scrape_ok) {
      obs.lb_metrics_ok = false;
      obs.lb_metrics_error += (obs.lb_metrics_error.empty() ? "" : "; ") + lb.error;
    } else if (lb.prev && lb.cur) {
      per_lb.push_back(derive_rates(*lb.prev, *lb.cur));
    } else {
      per_lb.push_back({});  // first scrape: no rates yet
    }
  }
  auto rates = obs.lb_metrics_ok ? combine_lbs(per_lb) : std::map<std::string, BackendRates>{};
  for (const auto& [addr, t] : instances_) {
    BackendSample s;
    s.address = addr;
    s.launched_at = t.launched_at;
    s.draining = t.draining;
    s.cpu_percent = t.cpu;
    if (auto it = rates.find(addr); it != rates.end()) {
      s.requests_per_s = it->second.requests_per_s;
      s.active = it->second.active;
      s.latency = it->second.latency;
    }
    obs.backends.push_back(std::move(s));
  }
  auto out = decide_target_tracking(cfg_, policy_, obs, now());
  const Decision& d = out.decision;
  log::info(d.log_line());
  metrics_.record(d);
  decisions_.push_back(d);
  while (decisions_.size() > opts_.decisions_kept) decisions_.pop_front();
  if (opts_.dry_run) return;  // nothing acts, so the policy's memory does not move either
  policy_ = std::move(out.next);
  act(d);
  save();
}

void Controller::act(const Decision& d) {
  for (const auto& a : d.cancel_drain) cancel_drain(a);
  for (unsigned i = 0; i < d.launch; ++i) launch_one("launch");
  for (const auto& a : d.drain) drain(a);
}

void Controller::launch_one(const char* why) {
  ++launching_;
  driver_->launch([this, why = std::string(why)](Result<Instance> r) {
    --launching_;
    if (!r) {
      log::warn("launch failed: " + r.error());
      return;
    }
    log::info(why + ": launched " + r->address);
    metrics_.count_action("launch");
    instances_[r->address] = Tracked{*r, now(), false, {}, false, std::nullopt};
    register_everywhere(r->address);
    save();
  });
}

void Controller::register_everywhere(const std::string& address) {
  const std::string body = json{{"address", address}, {"weight", 1}}.dump();
  for (auto& lb : lbs_) {
    lb_call(lb, "POST", "/api/v1/pools/" + path_segment(cfg_.pool) + "/backends", body,
            [url = lb.url, address](Result<HttpResponse> r) {
              if (!r || (r->status != 200 && r->status != 201))
                log::warn("register " + address + " with " + url + ": " +
                          (r ? "status " + std::to_string(r->status) : r.error()) + " (retried)");
            });
  }
}

void Controller::drain(const std::string& address) {
  auto it = instances_.find(address);
  if (it == instances_.end() || it->second.draining) return;
  it->second.draining = true;
  it->second.drain_started = now();
  metrics_.count_action("drain");
  for (auto& lb : lbs_) {
    lb_call(lb, "DELETE", "/api/v1/pools/" + path_segment(cfg_.pool) + "/backends/" + path_segment(address), "",
            [url = lb.url, address](Result<HttpResponse> r) {
              if (!r || (r->status != 202 && r->status != 200 && r->status != 404))
                log::warn("drain " + address + " on " + url + ": " +
                          (r ? "status " + std::to_string(r->status) : r.error()) + " (retried)");
            });
  }
}

void Controller::cancel_drain(const std::string& address) {
  auto it = instances_.find(address);
  if (it == instances_.end() || !it->second.draining) return;
  it->second.draining = false;
  const std::string body = json{{"state", "healthy"}}.dump();
  for (auto& lb : lbs_) {
    lb_call(lb, "PUT", "/api/v1/pools/" + path_segment(cfg_.pool) + "/backends/" + path_segment(address), body,
            [url = lb.url, address](Result<HttpResponse> r) {
              if (!r || r->status >= 300)
                log::warn("cancel drain of " + address + " on " + url + ": " +
                          (r ? "status " + std::to_string(r->status) : r.error()) + " (re-registered next)");
            });
  }
  log::info("cancelled the drain of " + address);
}

void Controller::finish_drains() {
  std::vector<std::string> done;
  for (auto& [addr, t] : instances_) {
    if (!t.draining || t.terminating) continue;
    bool gone_everywhere = true;
    for (const auto& lb : lbs_) gone_everywhere = gone_everywhere && lb.pool_ok && !lb.members.count(addr);
    if (gone_everywhere || now() - t.drain_started >= cfg_.drain_timeout) done.push_back(addr);
  }
  for (const auto& addr : done) {
    Tracked& t = instances_[addr];
    t.terminating = true;
    driver_->terminate(t.inst, [this, addr](Result<void> r) {
      auto it = instances_.find(addr);
      if (!r) {
        log::warn("terminate " + addr + ": " + r.error() + " (retried next interval)");
        if (it != instances_.end()) it->second.terminating = false;
        return;
      }
      log::info("terminated " + addr);
      metrics_.count_action("terminate");
      if (it != instances_.end()) instances_.erase(it);
      save();
    });
  }
}

void Controller::reconcile() {
  for (auto& lb : lbs_) {
    if (!lb.pool_ok) continue;
    for (const auto& [addr, t] : instances_) {
      auto m = lb.members.find(addr);
      if (!t.draining && m == lb.members.end()) {
        log::info("registering " + addr + " with " + lb.url + " (missing there)");
        const std::string body = json{{"address", addr}, {"weight", 1}}.dump();
        lb_call(lb, "POST", "/api/v1/pools/" + path_segment(cfg_.pool) + "/backends", body, [](Result<HttpResponse>) {});
      } else if (t.draining && m != lb.members.end() && m->second != "draining") {
        lb_call(lb, "DELETE", "/api/v1/pools/" + path_segment(cfg_.pool) + "/backends/" + path_segment(addr), "",
                [](Result<HttpResponse>) {});
      }
    }
  }
}

void Controller::replace_unhealthy() {
  bool any_lb = false;
  for (const auto& lb : lbs_) any_lb = any_lb || lb.pool_ok;
  if (!any_lb) return;
  std::vector<std::string> bad;
  for (auto& [addr, t] : instances_) {
    if (t.draining) continue;
    for (const auto& lb : lbs_)
      if (lb.pool_ok)
        if (auto m = lb.members.find(addr); m != lb.members.end() && m->second == "healthy") t.healthy_seen = true;
    if (!t.healthy_seen && now() - t.launched_at >= cfg_.health_grace) bad.push_back(addr);
  }
  for (const auto& addr : bad) {
    log::warn("instance " + addr + " not healthy after health_grace " + format_duration(cfg_.health_grace) + ": replacing it");
    Tracked t = instances_[addr];
    forget(addr, true);
    driver_->terminate(t.inst, [addr](Result<void> r) {
      if (!r) log::warn("terminate " + addr + ": " + r.error());
    });
    metrics_.count_action("replace");
    launch_one("replace");
  }
}

void Controller::forget(const std::string& address, bool deregister) {
  instances_.erase(address);
  if (deregister) {
    for (auto& lb : lbs_)
      lb_call(lb, "DELETE", "/api/v1/pools/" + path_segment(cfg_.pool) + "/backends/" + path_segment(address), "",
              [](Result<HttpResponse>) {});
  }
  save();
}

void Controller::save() {
  if (opts_.dry_run) return;
  ScalerState s;
  s.pool = cfg_.pool;
  s.policy = policy_;
  for (const auto& [addr, t] : instances_) s.instances.push_back({addr, t.inst.handle, t.launched_at, t.draining});
  if (auto r = save_state(cfg_.state_file, s); !r) log::error("state file: " + r.error());
}

HttpServer::Reply Controller::handle(std::string_view method, std::string_view target) {
  (void)method;
  std::string_view path = target.substr(0, target.find('?'));
  if (path == "/healthz") return {200, "text/plain; charset=utf-8", "ok"};
  if (path == "/metrics") return {200, "text/plain; version=0.0.4; charset=utf-8", metrics_.render()};
  if (path == "/api/v1/decisions") {
    json arr = json::array();
    for (const auto& d : decisions_) arr.push_back(d);
    return {200, "application/json", arr.dump() + "\n"};
  }
  return {404, "application/json", "{\"error\": \"not found\"}\n"};
}

}  // namespace ebb::scaler
