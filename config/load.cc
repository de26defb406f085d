// The toml11 boundary: the only file that includes <toml.hpp> (it costs ~12 s per translation
// unit). Turns TOML text into the plain structs, checking each key's type, range and format and
// recording where every key and value was; the checks across keys (references, duplicates,
// min <= max, files on disk) run afterwards on the structs (validate.cc). No toml11 exception
// leaves this file.
#include <algorithm>
#include <charconv>
#include <limits>
#include <sstream>
#include <toml.hpp>

#include "config/enums.h"
#include "config/load.h"
#include "config/report.h"
#include "config/source_text.h"
#include "config/validate.h"
#include "config/values.h"

namespace ebb::config {

namespace {

using Value = toml::value;

const char* type_name(const Value& v) {
  switch (v.type()) {
    case toml::value_t::boolean: return "a boolean";
    case toml::value_t::integer: return "an integer";
    case toml::value_t::floating: return "a float";
    case toml::value_t::string: return "a string";
    case toml::value_t::offset_datetime:
    case toml::value_t::local_datetime: return "a date-time";
    case toml::value_t::local_date: return "a date";
    case toml::value_t::local_time: return "a time";
    case toml::value_t::array: return "an array";
    case toml::value_t::table: return "a table";
    default: return "nothing";
  }
}

bool is_bare_key_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
}

// Positions of values in the source text. toml11's value::location() counts the lines from the
// start of the file on every call (quadratic over a big file), so this maps the byte offset of
// a value's region to line and column with a line index instead.
class SourceIndex {
 public:
  explicit SourceIndex(std::string_view text) : text_(text) {
    line_starts_.push_back(0);
    for (size_t i = 0; i < text.size(); ++i)
      if (text[i] == '\n') line_starts_.push_back(i + 1);
  }

  // Byte offset and length of the value's source region; false for values without one.
  bool region(const Value& v, size_t& offset, size_t& size) const {
    const auto* reg = dynamic_cast<const toml::detail::region*>(toml::detail::get_region(v));
    if (!reg || !reg->source()) return false;
    auto begin = reg->source()->cbegin();
    offset = static_cast<size_t>(reg->first() - begin);
    size = static_cast<size_t>(reg->last() - reg->first());
    return offset <= text_.size() && size <= text_.size() - offset;
  }

  Pos pos_at(size_t offset) const {
    auto it = std::upper_bound(line_starts_.begin(), line_starts_.end(), offset);
    size_t line = static_cast<size_t>(it - line_starts_.begin());  // 1-based
    return Pos{static_cast<unsigned>(line), static_cast<unsigned>(offset - line_starts_[line - 1] + 1)};
  }

  Pos pos(const Value& v) const {
    size_t off, size;
    return region(v, off, size) ? pos_at(off) : Pos{};
  }

  // The source text of a value (e.g. an integer literal as written).
  std::string_view literal(const Value& v) const {
    size_t off, size;
    return region(v, off, size) ? text_.substr(off, size) : std::string_view();
  }

  // Where `key` is written, given its value `v`: toml11 keeps positions of values only. For
  // `key = value` the key is on the same line before the value; for `[a.key]` / `[[key]]` /
  // `a.key.b = 1` the value's position is the header or dotted key, and the key is after it.
  Pos key_pos(const Value& v, const std::string& key) const {
    Pos vp = pos(v);
    if (vp.line == 0 || key.empty()) return vp;
    size_t start = line_starts_[vp.line - 1];
    size_t end = text_.find('\n', start);
    std::string_view line = text_.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
    size_t col0 = vp.column - 1;
    auto boundary_ok = [&](size_t at) {
      bool before = at == 0 || !is_bare_key_char(line[at - 1]);
      bool after = at + key.size() >= line.size() || !is_bare_key_char(line[at + key.size()]);
      return before && after;
    };
    if (col0 > line.size()) return vp;
    for (size_t at = line.rfind(key, col0); at != std::string_view::npos;
         at = at == 0 ? std::string_view::npos : line.rfind(key, at - 1)) {
      if (at + key.size() <= col0 && boundary_ok(at)) return Pos{vp.line, static_cast<unsigned>(at + 1)};
    }
    for (size_t at = line.find(key, col0); at != std::string_view::npos; at = line.find(key, at + 1)) {
      if (boundary_ok(at)) return Pos{vp.line, static_cast<unsigned>(at + 1)};
    }
    return vp;
  }

 private:
  std::string_view text_;
  std::vector<size_t> line_starts_;
};

size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j)
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

std::string in_quotes(const std::string& s) { return "\"" + s + "\""; }

struct Reader {
  Report& rep;
  std::string base_dir;  // relative file paths in the config are relative to this ("" = cwd)
  const SourceIndex& src;

  Pos pos(const Value& v) const { return src.pos(v); }

  std::string resolve(const std::string& path) const {
    if (path.empty() || path.front() == '/' || base_dir.empty()) return path;
    return base_dir + "/" + path;
  }
};

// One TOML table being read: typed getters for its keys, then finish() reports the keys nobody
// asked for as unknown.
class Table {
 public:
  Table(Reader& r, const Value& v, std::string path, std::vector<std::string> known)
      : r_(r), v_(v), path_(std::move(path)), known_(std::move(known)) {
    for (const auto& [k, child] : v_.as_table()) r_.rep.set_pos(sub(k), r_.src.key_pos(child, k), r_.pos(child));
  }

  std::string sub(const std::string& key) const { return path_.empty() ? key : path_ + "." + key; }
  const std::string& path() const { return path_; }

  // The value of `key`, or nullptr if absent (reported when `required`).
  const Value* get(const std::string& key, bool required = false) {
    const auto& t = v_.as_table();
    auto it = t.find(key);
    if (it == t.end()) {
      if (required) r_.rep.error_at(r_.pos(v_), sub(key), "required key is missing");
      return nullptr;
    }
    return &it->second;
  }

  bool has(const std::string& key) const { return v_.as_table().count(key) != 0; }

  bool type_ok(const Value& v, const std::string& path, bool ok, const char* expected) {
    if (!ok) r_.rep.error_at(r_.pos(v), path, std::string("expected ") + expected + ", got " + type_name(v));
    return ok;
  }

  bool str(const std::string& key, std::string& out, bool required = false) {
    const Value* v = get(key, required);
    if (!v || !type_ok(*v, sub(key), v->is_string(), "a string")) return false;
    out = v->as_string().str;
    return true;
  }

  // A non-empty string.
  bool name(const std::string& key, std::string& out, bool required = true) {
    if (!str(key, out, required)) return false;
    if (out.empty()) {
      r_.rep.error(sub(key), "must not be empty");
      return false;
    }
    return true;
  }

  bool file_path(const std::string& key, std::string& out) {
    if (!str(key, out)) return false;
    out = r_.resolve(out);
    return true;
  }

  bool boolean(const std::string& key, bool& out) {
    const Value* v = get(key);
    if (!v || !type_ok(*v, sub(key), v->is_boolean(), "a boolean (true or false)")) return false;
    out = v->as_boolean();
    return true;
  }

  template <typename I>
  bool integer(const std::string& key, I& out, int64_t lo, int64_t hi, bool required = false) {
    const Value* v = get(key, required);
    if (!v) return false;
    int64_t n;
    if (!read_integer(*v, sub(key), n)) return false;
    if (n < lo || n > hi) {
      r_.rep.error(sub(key), hi == std::numeric_limits<int64_t>::max()
                                 ? "must be at least " + std::to_string(lo) + ", got " + std::to_string(n)
                                 : "must be between " + std::to_string(lo) + " and " + std::to_string(hi) +
                                       ", got " + std::to_string(n));
      return false;
    }
    out = static_cast<I>(n);
    return true;
  }

  // A float (or an integer) greater than 0.
  bool positive_number(const std::string& key, double& out, bool required = false) {
    const Value* v = get(key, required);
    if (!v || !type_ok(*v, sub(key), v->is_floating() || v->is_integer(), "a number")) return false;
    double d = v->is_floating() ? v->as_floating() : static_cast<double>(v->as_integer());
    if (!(d > 0) || d > 1e12) {
      r_.rep.error(sub(key), "must be a number greater than 0, got " + format_number(d));
      return false;
    }
    out = d;
    return true;
  }

  bool duration(const std::string& key, Duration& out, bool allow_zero, bool required = false) {
    std::string text;
    const Value* v = get(key, required);
    if (!v) return false;
    if (!type_ok(*v, sub(key), v->is_string(), "a duration string like \"250ms\", \"5s\", \"2m\"")) return false;
    text = v->as_string().str;
    auto d = parse_duration(text);
    if (!d) {
      r_.rep.error(sub(key), d.error());
      return false;
    }
    if (!allow_zero && d->count() == 0) {
      r_.rep.error(sub(key), "must be greater than 0");
      return false;
    }
    out = *d;
    return true;
  }

  bool address(const std::string& key, HostPort& out, bool required = false) {
    std::string text;
    if (!str(key, text, required)) return false;
    auto hp = parse_host_port(text);
    if (!hp) {
      r_.rep.error(sub(key), hp.error());
      return false;
    }
    out = *hp;
    return true;
  }

  template <typename E>
  bool enumeration(const std::string& key, E& out, std::span<const EnumName<E>> names, bool required = false) {
    std::string text;
    const Value* v = get(key, false);
    if (!v && required) {
      r_.rep.error_at(r_.pos(v_), sub(key), "required key is missing (expected one of " + enum_list(names) + ")");
      return false;
    }
    if (!str(key, text)) return false;
    auto e = enum_from_name(names, text);
    if (!e) {
      r_.rep.error(sub(key), "unknown value " + in_quotes(text) + " (expected one of " + enum_list(names) + ")");
      return false;
    }
    out = *e;
    return true;
  }

  // An array of strings (non-empty when `non_empty`).
  bool str_array(const std::string& key, std::vector<std::string>& out, bool non_empty) {
    const Value* v = get(key);
    if (!v || !type_ok(*v, sub(key), v->is_array(), "an array of strings")) return false;
    std::vector<std::string> items;
    bool ok = true;
    size_t i = 0;
    for (const auto& item : v->as_array()) {
      std::string p = sub(key) + "[" + std::to_string(i++) + "]";
      r_.rep.set_pos(p, r_.pos(item), r_.pos(item));
      if (!type_ok(item, p, item.is_string(), "a string")) {
        ok = false;
        continue;
      }
      items.push_back(item.as_string().str);
    }
    if (!ok) return false;
    if (non_empty && items.empty()) {
      r_.rep.error(sub(key), "must not be empty");
      return false;
    }
    out = std::move(items);
    return true;
  }

  // A sub-table, or nullptr (absent, or not a table: reported).
  const Value* table(const std::string& key, bool required = false) {
    const Value* v = get(key, required);
    if (!v || !type_ok(*v, sub(key), v->is_table(), "a table")) return nullptr;
    return v;
  }

  // An array whose elements must be tables ([[key]] or [{...}, {...}]); the element tables
  // are returned with their paths. Elements of another type are reported and skipped.
  std::vector<std::pair<const Value*, std::string>> tables(const std::string& key) {
    std::vector<std::pair<const Value*, std::string>> out;
    const Value* v = get(key);
    if (!v || !type_ok(*v, sub(key), v->is_array(), "an array of tables")) return out;
    size_t i = 0;
    for (const auto& item : v->as_array()) {
      std::string p = sub(key) + "[" + std::to_string(i++) + "]";
      r_.rep.set_pos(p, r_.pos(item), r_.pos(item));
      if (type_ok(item, p, item.is_table(), "a table")) out.emplace_back(&item, p);
    }
    return out;
  }

  void finish() {
    for (const auto& [k, child] : v_.as_table()) {
      if (std::find(known_.begin(), known_.end(), k) != known_.end()) continue;
      std::string best;
      size_t best_d = 3;
      for (const auto& kn : known_) {
        size_t d = edit_distance(k, kn);
        if (d < best_d) {
          best_d = d;
          best = kn;
        }
      }
      std::string msg = "unknown key " + in_quotes(k);
      if (!best.empty()) {
        msg += " (did you mean " + in_quotes(best) + "?)";
      } else if (!known_.empty()) {
        msg += " (expected one of ";
        for (size_t i = 0; i < known_.size(); ++i) msg += (i ? ", " : "") + known_[i];
        msg += ")";
      }
      r_.rep.error_at_key(sub(k), msg);
    }
  }

  Reader& reader() { return r_; }
  const Value& value() const { return v_; }

 private:
  static std::string format_number(double d) {
    std::ostringstream os;
    os << d;
    return os.str();
  }

  // toml11 3.7 wraps integer literals that overflow int64 silently; re-read the literal.
  bool read_integer(const Value& v, const std::string& path, int64_t& out) {
    if (!type_ok(v, path, v.is_integer(), "an integer")) return false;
    std::string_view lit = r_.src.literal(v);
    std::string digits;
    for (char c : lit)
      if (c != '_' && c != '+') digits += c;
    bool decimal = digits.size() < 2 || digits[0] != '0';
    int64_t n = 0;
    if (decimal && !digits.empty() &&
        std::from_chars(digits.data(), digits.data() + digits.size(), n).ec == std::errc::result_out_of_range) {
      r_.rep.error(path, "integer " + std::string(lit) + " is out of range");
      return false;
    }
    out = v.as_integer();
    return true;
  }

  Reader& r_;
  const Value& v_;
  std::string path_;
  std::vector<std::string> known_;
};

// ---- lb.toml ----------------------------------------------------------------------------------

void read_runtime(Table& t, Runtime& rt) {
  t.integer("workers", rt.workers, 0, 1024);
  t.integer("max_connections", rt.max_connections, 1, 100'000'000);
  t.duration("shutdown_grace", rt.shutdown_grace, true);
  t.enumeration<LogLevel>("log_level", rt.log_level, kLogLevelNames);
  if (t.name("access_log", rt.access_log, false) && rt.access_log != "off" && rt.access_log != "stdout")
    rt.access_log = t.reader().resolve(rt.access_log);
  t.finish();
}

void read_admin(Table& t, Admin& a) {
  t.address("listen", a.listen);
  t.file_path("token_file", a.token_file);
  t.finish();
}

void read_cert_pair(Table& t, TlsCert& c) {
  t.file_path("cert", c.cert);
  t.file_path("key", c.key);
}

void read_tls(Table& t, Tls& tls) {
  read_cert_pair(t, tls.default_cert);
  for (auto& [v, path] : t.tables("sni")) {
    Table s(t.reader(), *v, path, {"cert", "key"});
    TlsCert c;
    read_cert_pair(s, c);
    s.finish();
    tls.sni.push_back(std::move(c));
  }
  if (const Value* v = t.get("min_version")) {
    if (v->is_floating()) {
      t.reader().rep.error(t.sub("min_version"), "expected a string, got a float (write it in quotes: \"1.2\" or \"1.3\")");
    } else if (t.str("min_version", tls.min_version) && tls.min_version != "1.2" && tls.min_version != "1.3") {
      t.reader().rep.error(t.sub("min_version"), "unknown value " + in_quotes(tls.min_version) + " (expected one of 1.2, 1.3)");
    }
  }
  t.boolean("session_tickets", tls.session_tickets);
  if (t.str_array("alpn", tls.alpn, true)) {
    for (size_t i = 0; i < tls.alpn.size(); ++i)
      if (tls.alpn[i].empty() || tls.alpn[i].size() > 255)
        t.reader().rep.error(t.sub("alpn") + "[" + std::to_string(i) + "]", "a protocol name must be 1 to 255 bytes");
  }
  t.finish();
}

void read_route(Table& t, Route& r) {
  if (t.str("host", r.host) && !r.host.empty()) {
    auto ok = check_host_pattern(r.host);
    if (!ok) t.reader().rep.error(t.sub("host"), ok.error());
  }
  if (t.str("path_prefix", r.path_prefix) && !r.path_prefix.empty() && r.path_prefix.front() != '/')
    t.reader().rep.error(t.sub("path_prefix"), "must start with \"/\"");
  t.name("pool", r.pool);
  t.finish();
}

void read_listener(Table& t, Listener& l) {
  t.name("name", l.name);
  t.address("listen", l.listen, true);
  t.enumeration<ListenerMode>("mode", l.mode, kListenerModeNames);
  t.name("pool", l.pool);
  t.boolean("proxy_protocol", l.proxy_protocol);
  if (const Value* v = t.table("tls")) {
    Table tt(t.reader(), *v, t.sub("tls"), {"cert", "key", "sni", "min_version", "session_tickets", "alpn"});
    l.tls.emplace();
    read_tls(tt, *l.tls);
  }
  for (auto& [v, path] : t.tables("routes")) {
    Table rt(t.reader(), *v, path, {"host", "path_prefix", "pool"});
    Route r;
    read_route(rt, r);
    l.routes.push_back(std::move(r));
  }
  t.integer("max_header_bytes", l.max_header_bytes, 1024, 16 * 1024 * 1024);
  t.duration("header_timeout", l.header_timeout, false);
  t.integer("max_body_bytes", l.max_body_bytes, 0, std::numeric_limits<int64_t>::max());
  t.finish();
}

void read_health(Table& t, Health& h) {
  t.enumeration<HealthCheck>("check", h.check, kHealthCheckNames);
  if (t.str("path", h.path) && (h.path.empty() || h.path.front() != '/'))
    t.reader().rep.error(t.sub("path"), "must start with \"/\"");
  if (t.str("host", h.host)) {
    for (char c : h.host)
      if (c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '/') {
        t.reader().rep.error(t.sub("host"), "invalid character in host " + in_quotes(h.host));
        break;
      }
  }
  if (const Value* v = t.get("expect")) {
    std::string text;
    if (v->is_integer()) {
      text = std::to_string(v->as_integer());
    } else if (t.type_ok(*v, t.sub("expect"), v->is_string(), "a string like \"200-399\" or \"200\"")) {
      text = v->as_string().str;
    }
    if (!text.empty() || v->is_string()) {
      auto range = parse_expect(text);
      if (range) {
        h.expect_min = range->first;
        h.expect_max = range->second;
      } else {
        t.reader().rep.error(t.sub("expect"), range.error());
      }
    }
  }
  t.duration("interval", h.interval, false);
  t.duration("timeout", h.timeout, false);
  t.integer("healthy_threshold", h.healthy_threshold, 1, 1000);
  t.integer("unhealthy_threshold", h.unhealthy_threshold, 1, 1000);
  t.integer("passive_failures", h.passive_failures, 0, 1000);
  t.finish();
}

void read_backends(Table& t, std::vector<BackendConfig>& out) {
  const Value* v = t.get("backends");
  if (!v || !t.type_ok(*v, t.sub("backends"), v->is_array(), "an array of backends")) return;
  size_t i = 0;
  for (const auto& item : v->as_array()) {
    std::string path = t.sub("backends") + "[" + std::to_string(i++) + "]";
    t.reader().rep.set_pos(path, t.reader().pos(item), t.reader().pos(item));
    BackendConfig b;
    if (item.is_string()) {  // shorthand: "host:port" with weight 1
      auto hp = parse_host_port(item.as_string().str);
      if (!hp) {
        t.reader().rep.error(path, hp.error());
        continue;
      }
      b.address = *hp;
      out.push_back(std::move(b));
      continue;
    }
    if (!t.type_ok(item, path, item.is_table(), "a table like { address = \"host:port\", weight = 1 }")) continue;
    Table bt(t.reader(), item, path, {"address", "weight"});
    bool ok = bt.address("address", b.address, true);
    bt.integer("weight", b.weight, 1, 10000);
    bt.finish();
    if (ok) out.push_back(std::move(b));
  }
}

void read_pool(Table& t, Pool& p) {
  t.name("name", p.name);
  t.enumeration<Balance>("balance", p.balance, kBalanceNames);
  std::string hk;
  if (t.str("hash_key", hk)) {
    auto k = parse_hash_key(hk);
    if (k)
      p.hash_key = *k;
    else
      t.reader().rep.error(t.sub("hash_key"), k.error());
  }
  if (t.str("sticky_cookie", p.sticky_cookie) && !p.sticky_cookie.empty() && !is_http_token(p.sticky_cookie))
    t.reader().rep.error(t.sub("sticky_cookie"), "invalid cookie name " + in_quotes(p.sticky_cookie) +
                                                     " (letters, digits and !#$%&'*+-.^_`|~ only)");
  t.duration("sticky_ttl", p.sticky_ttl, false);
  t.file_path("sticky_secret_file", p.sticky_secret_file);
  t.duration("connect_timeout", p.connect_timeout, false);
  t.duration("response_timeout", p.response_timeout, false);
  t.duration("idle_timeout", p.idle_timeout, false);
  t.integer("retries", p.retries, 0, 100);
  t.duration("drain_timeout", p.drain_timeout, true);
  t.duration("slow_start", p.slow_start, true);
  t.boolean("managed", p.managed);
  read_backends(t, p.backends);
  if (const Value* v = t.table("health")) {
    Table ht(t.reader(), *v, t.sub("health"),
             {"check", "path", "host", "expect", "interval", "timeout", "healthy_threshold", "unhealthy_threshold",
              "passive_failures"});
    read_health(ht, p.health);
  }
  t.finish();
}

void read_lb(Reader& r, const Value& root, LbConfig& cfg) {
  Table top(r, root, "", {"runtime", "admin", "listeners", "pools"});
  if (const Value* v = top.table("runtime")) {
    Table t(r, *v, "runtime", {"workers", "max_connections", "shutdown_grace", "log_level", "access_log"});
    read_runtime(t, cfg.runtime);
  }
  if (const Value* v = top.table("admin")) {
    Table t(r, *v, "admin", {"listen", "token_file"});
    read_admin(t, cfg.admin);
  }
  for (auto& [v, path] : top.tables("listeners")) {
    Table t(r, *v, path,
            {"name", "listen", "mode", "pool", "proxy_protocol", "tls", "routes", "max_header_bytes", "header_timeout",
             "max_body_bytes"});
    Listener l;
    read_listener(t, l);
    cfg.listeners.push_back(std::move(l));
  }
  for (auto& [v, path] : top.tables("pools")) {
    Table t(r, *v, path,
            {"name", "balance", "hash_key", "sticky_cookie", "sticky_ttl", "sticky_secret_file", "connect_timeout",
             "response_timeout", "idle_timeout", "retries", "drain_timeout", "slow_start", "managed", "backends",
             "health"});
    Pool p;
    read_pool(t, p);
    cfg.pools.push_back(std::move(p));
  }
  top.finish();
}

// ---- scaler.toml ------------------------------------------------------------------------------

void read_scaler_table(Table& t, ScalerConfig& c) {
  t.name("pool", c.pool);
  if (t.str_array("lb_admin", c.lb_admin, true)) {
    for (size_t i = 0; i < c.lb_admin.size(); ++i) {
      auto url = parse_http_url(c.lb_admin[i]);
      if (!url) t.reader().rep.error(t.sub("lb_admin") + "[" + std::to_string(i) + "]", url.error());
      else c.lb_admin[i] = "http://" + url->str();  // canonical: no trailing slash
    }
  }
  t.file_path("token_file", c.token_file);
  t.address("metrics_listen", c.metrics_listen);
  t.file_path("state_file", c.state_file);
  t.integer("min", c.min, 0, 10000);
  t.integer("max", c.max, 1, 10000);
  t.duration("interval", c.interval, false);
  t.duration("scale_out_cooldown", c.scale_out_cooldown, true);
  t.duration("scale_in_cooldown", c.scale_in_cooldown, true);
  t.duration("warmup", c.warmup, true);
  t.duration("health_grace", c.health_grace, false);
  t.integer("scale_in_step", c.scale_in_step, 1, 10000);
  t.duration("drain_timeout", c.drain_timeout, false);
  for (auto& [v, path] : t.tables("targets")) {
    Table tt(t.reader(), *v, path, {"metric", "target"});
    ScalerTarget target;
    bool ok = tt.enumeration<ScalerMetric>("metric", target.metric, kScalerMetricNames, true);
    ok = tt.positive_number("target", target.target, true) && ok;
    tt.finish();
    if (ok) c.targets.push_back(target);
  }
  for (auto& [v, path] : t.tables("schedule")) {
    Table st(t.reader(), *v, path, {"cron", "duration", "min"});
    ScheduleEntry e;
    bool ok = false;
    if (st.str("cron", e.cron, true)) {
      auto spec = parse_cron(e.cron);
      if (spec) {
        e.when = *spec;
        ok = true;
      } else {
        t.reader().rep.error(st.sub("cron"), spec.error());
      }
    }
    ok = st.duration("duration", e.duration, false, true) && ok;
    ok = st.integer("min", e.min, 0, 10000, true) && ok;
    st.finish();
    if (ok) c.schedule.push_back(std::move(e));
  }
  t.finish();
}

// Which driver type a driver key belongs to (keys shared by several types list all of them).
const std::vector<std::pair<std::string, std::vector<DriverType>>> kDriverKeys = {
    {"command", {DriverType::process}},
    {"ports", {DriverType::process, DriverType::systemd}},
    {"host", {DriverType::process, DriverType::systemd}},
    {"launch", {DriverType::exec}},
    {"terminate", {DriverType::exec}},
    {"cpu", {DriverType::exec}},
    {"exec_timeout", {DriverType::exec}},
    {"unit", {DriverType::systemd}},
    {"systemctl", {DriverType::systemd}},
};

void read_driver(Table& t, Driver& d) {
  bool type_ok = t.enumeration<DriverType>("type", d.type, kDriverTypeNames, true);
  t.str_array("command", d.command, true);
  std::string ports;
  if (t.str("ports", ports)) {
    auto range = parse_port_range(ports);
    if (range) {
      d.port_min = range->first;
      d.port_max = range->second;
    } else {
      t.reader().rep.error(t.sub("ports"), range.error());
    }
  }
  if (t.name("host", d.host, false)) {
    auto hp = parse_host_port(d.host + ":1");
    if (d.host.find(':') != std::string::npos) hp = parse_host_port("[" + d.host + "]:1");
    if (!hp) t.reader().rep.error(t.sub("host"), "invalid host " + in_quotes(d.host));
  }
  t.str_array("launch", d.launch, true);
  t.str_array("terminate", d.terminate, true);
  t.str_array("cpu", d.cpu, true);
  t.duration("exec_timeout", d.exec_timeout, false);
  t.name("unit", d.unit, false);
  t.str_array("systemctl", d.systemctl, true);
  if (type_ok) {
    for (const auto& [key, types] : kDriverKeys) {
      if (!t.has(key) || std::find(types.begin(), types.end(), d.type) != types.end()) continue;
      std::string owners;
      for (auto ty : types) owners += std::string(owners.empty() ? "" : " or ") + "\"" + to_string(ty) + "\"";
      t.reader().rep.error_at_key(t.sub(key), "not used by the " + std::string(to_string(d.type)) +
                                                  " driver (it belongs to type = " + owners + ")");
    }
  }
  t.finish();
}

void read_scaler(Reader& r, const Value& root, ScalerConfig& cfg) {
  Table top(r, root, "", {"scaler", "driver", "simulate"});
  if (const Value* v = top.table("scaler", true)) {
    Table t(r, *v, "scaler",
            {"pool", "lb_admin", "token_file", "metrics_listen", "state_file", "min", "max", "interval",
             "scale_out_cooldown", "scale_in_cooldown", "warmup", "health_grace", "scale_in_step", "drain_timeout",
             "targets", "schedule"});
    read_scaler_table(t, cfg);
  }
  if (const Value* v = top.table("driver", true)) {
    std::vector<std::string> keys{"type"};
    for (const auto& [k, types] : kDriverKeys) keys.push_back(k);
    Table t(r, *v, "driver", keys);
    read_driver(t, cfg.driver);
  }
  if (const Value* v = top.table("simulate")) {
    Table t(r, *v, "simulate", {"service_ms", "capacity_rps"});
    t.positive_number("service_ms", cfg.simulate.service_ms);
    t.positive_number("capacity_rps", cfg.simulate.capacity_rps);
    t.finish();
  }
  top.finish();
}

// ---- parsing ----------------------------------------------------------------------------------

std::string trim(std::string s) {
  size_t a = s.find_first_not_of(" \t");
  size_t b = s.find_last_not_of(" \t");
  return a == std::string::npos ? "" : s.substr(a, b - a + 1);
}

// toml11's messages are several lines ("[error] toml::func: what", then the source lines with
// a "^--- hint" marker). Turns one into a single-line diagnostic at the marker's position.
// toml11 parses with an LF appended when the file has none, so an error at the very end of
// such a file is reported one line past it ("2:1" for a one-line file): point at the end of
// the last line instead. Found by tests/fuzz/fuzz_config.
Pos clamp_to_text(Pos pos, std::string_view text) {
  const auto lines = static_cast<unsigned>(1 + std::count(text.begin(), text.end(), '\n'));
  if (pos.line <= lines) return pos;
  const size_t nl = text.rfind('\n');
  const size_t last_line_start = nl == std::string_view::npos ? 0 : nl + 1;
  return Pos{lines, static_cast<unsigned>(text.size() - last_line_start + 1)};
}

void report_toml_error(const std::string& what, Pos fallback, std::string_view text, Report& rep) {
  std::vector<std::string> lines;
  std::istringstream in(what);
  for (std::string l; std::getline(in, l);) lines.push_back(l);
  std::string head = lines.empty() ? what : lines[0];
  if (head.rfind("[error] ", 0) == 0) head = head.substr(8);
  if (head.rfind("toml::", 0) == 0) {
    size_t colon = head.find(": ");
    head = colon == std::string::npos ? "" : head.substr(colon + 2);
  }
  head = trim(head);
  while (!head.empty() && head.back() == '.') head.pop_back();

  Pos pos = fallback;
  std::string hint;
  unsigned src_line = 0;
  for (const auto& l : lines) {
    size_t bar = l.find(" | ");
    if (bar == std::string::npos) continue;
    std::string left = trim(l.substr(0, bar));
    std::string right = l.substr(bar + 3);
    if (!left.empty() && left.find_first_not_of("0123456789") == std::string::npos) {
      std::from_chars(left.data(), left.data() + left.size(), src_line);
    } else if (left.empty() && src_line != 0) {
      size_t mark = right.find_first_not_of(' ');
      if (mark != std::string::npos && (right[mark] == '^' || right[mark] == '~')) {
        pos = Pos{src_line, static_cast<unsigned>(mark + 1)};
        size_t text = right.find_first_not_of("^~-", mark);
        hint = text == std::string::npos ? "" : trim(right.substr(text));
      }
    }
  }
  if (hint == "here" || hint == head) hint.clear();
  std::string msg = "invalid TOML";
  if (!head.empty()) msg += ": " + head;
  if (!hint.empty()) msg += head.empty() ? ": " + hint : " (" + hint + ")";
  rep.error_at(clamp_to_text(pos, text), "", msg);
}

// Parses TOML text (already checked to be UTF-8); nullopt with diagnostics in `rep` if it is
// not valid TOML or nests too deeply.
std::optional<Value> parse_toml(const std::string& text, Report& rep) {
  if (!check_nesting(text, rep)) return std::nullopt;
  try {
    std::istringstream in(text);
    return toml::parse(in, rep.file());
  } catch (const toml::exception& e) {
    report_toml_error(e.what(), Pos{static_cast<unsigned>(e.location().line()),
                                    static_cast<unsigned>(e.location().column())},
                      text, rep);
  } catch (const std::exception& e) {
    rep.file_error(std::string("invalid TOML: ") + e.what());
  }
  return std::nullopt;
}

std::string dir_of(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return "";
  return slash == 0 ? "/" : path.substr(0, slash);
}

template <typename T, typename ReadFn, typename ValidateFn>
Loaded<T> parse_any(const std::string& text, const std::string& name, const std::string& base_dir,
                    const char* empty_message, ReadFn read, ValidateFn validate) {
  Loaded<T> out;
  out.config.path = name;
  Report rep(name);
  if (!check_utf8(text, rep)) {
    rep.finish(out);
    return out;
  }
  if (is_blank_toml(text)) {
    rep.file_error(empty_message);
    rep.finish(out);
    return out;
  }
  try {
    if (auto root = parse_toml(text, rep)) {
      SourceIndex src(text);
      Reader r{rep, base_dir, src};
      rep.set_pos("", Pos{}, Pos{});
      read(r, *root, out.config);
      validate(out.config, rep);
    }
  } catch (const std::exception& e) {  // a bug in the reader; still never escapes
    rep.file_error(std::string("internal error while reading the config: ") + e.what());
  }
  rep.finish(out);
  return out;
}

template <typename T, typename ParseFn>
Loaded<T> load_any(const std::string& path, ParseFn parse) {
  Report rep(path);
  auto text = read_config_file(path, rep);
  if (!text) {
    Loaded<T> out;
    out.config.path = path;
    rep.finish(out);
    return out;
  }
  return parse(*text, path, dir_of(path));
}

const char* kLbEmpty = "the file is empty (expected at least one [[listeners]] and one [[pools]])";
const char* kScalerEmpty = "the file is empty (expected a [scaler] table with [[scaler.targets]] and a [driver] table)";

Loaded<LbConfig> parse_lb(const std::string& text, const std::string& name, const std::string& base_dir) {
  return parse_any<LbConfig>(text, name, base_dir, kLbEmpty, read_lb, validate_lb);
}

Loaded<ScalerConfig> parse_scaler(const std::string& text, const std::string& name, const std::string& base_dir) {
  return parse_any<ScalerConfig>(text, name, base_dir, kScalerEmpty, read_scaler, validate_scaler);
}

}  // namespace

Loaded<LbConfig> parse_lb_config(const std::string& text, const std::string& name) { return parse_lb(text, name, ""); }

Loaded<ScalerConfig> parse_scaler_config(const std::string& text, const std::string& name) {
  return parse_scaler(text, name, "");
}

Loaded<LbConfig> load_lb_config(const std::string& path) { return load_any<LbConfig>(path, parse_lb); }

Loaded<ScalerConfig> load_scaler_config(const std::string& path) { return load_any<ScalerConfig>(path, parse_scaler); }

}  // namespace ebb::config
