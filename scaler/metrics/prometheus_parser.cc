#include "scaler/metrics/prometheus_parser.h"

#include <charconv>
#include <cmath>
#include <limits>

namespace ebb::scaler {
namespace {

bool name_start(char c, bool colon_ok) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (colon_ok && c == ':');
}
bool name_char(char c, bool colon_ok) { return name_start(c, colon_ok) || (c >= '0' && c <= '9'); }

// A cursor over one line.
class Line {
 public:
  explicit Line(std::string_view s) : s_(s) {}
  void skip_blanks() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\t')) ++i_;
  }
  bool done() const { return i_ >= s_.size(); }
  char peek() const { return done() ? '\0' : s_[i_]; }
  bool eat(char c) {
    if (peek() != c) return false;
    ++i_;
    return true;
  }
  // A metric name ([a-zA-Z_:][a-zA-Z0-9_:]*) or a label name (no colons).
  std::string_view name(bool colon_ok) {
    size_t start = i_;
    if (done() || !name_start(s_[i_], colon_ok)) return {};
    while (i_ < s_.size() && name_char(s_[i_], colon_ok)) ++i_;
    return s_.substr(start, i_ - start);
  }
  // A run of non-blank characters.
  std::string_view token() {
    size_t start = i_;
    while (i_ < s_.size() && s_[i_] != ' ' && s_[i_] != '\t') ++i_;
    return s_.substr(start, i_ - start);
  }
  std::string_view rest() const { return s_.substr(std::min(i_, s_.size())); }
  // A quoted label value with \\ \" \n escapes; the opening quote is already consumed.
  bool quoted(std::string& out, std::string& err) {
    while (i_ < s_.size()) {
      char c = s_[i_++];
      if (c == '"') return true;
      if (c == '\\') {
        if (i_ >= s_.size()) break;
        char e = s_[i_++];
        if (e == '\\') out += '\\';
        else if (e == '"') out += '"';
        else if (e == 'n') out += '\n';
        else {
          err = std::string("invalid escape \\") + e + " in label value";
          return false;
        }
      } else {
        out += c;
      }
    }
    err = "unterminated label value";
    return false;
  }

 private:
  std::string_view s_;
  size_t i_ = 0;
};

std::optional<double> parse_value(std::string_view t) {
  if (t.empty()) return std::nullopt;
  std::string lower;
  for (char c : t) lower += static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  if (lower == "+inf" || lower == "inf") return std::numeric_limits<double>::infinity();
  if (lower == "-inf") return -std::numeric_limits<double>::infinity();
  if (lower == "nan") return std::numeric_limits<double>::quiet_NaN();
  if (t[0] == '+') t.remove_prefix(1);
  double v = 0;
  auto [p, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
  if (ec != std::errc() || p != t.data() + t.size() || std::isnan(v) || std::isinf(v)) return std::nullopt;
  return v;
}

std::string unescape_help(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 1 < s.size() && (s[i + 1] == '\\' || s[i + 1] == 'n')) {
      out += s[i + 1] == 'n' ? '\n' : '\\';
      ++i;
    } else {
      out += s[i];
    }
  }
  return out;
}

// Parses a comment line; HELP and TYPE are recorded, anything else is ignored.
std::string parse_comment(Line& l, Exposition& out) {
  l.eat('#');
  l.skip_blanks();
  std::string_view kw = l.token();
  if (kw != "HELP" && kw != "TYPE") return "";
  l.skip_blanks();
  std::string_view name = l.name(true);
  if (name.empty()) return std::string("expected a metric name after # ") + std::string(kw);
  if (!l.done() && l.peek() != ' ' && l.peek() != '\t') return "invalid character in metric name";
  l.skip_blanks();
  if (kw == "HELP") {
    out.help[std::string(name)] = unescape_help(l.rest());
    return "";
  }
  std::string_view type = l.token();
  l.skip_blanks();
  if (!l.done()) return "unexpected text after # TYPE";
  if (type != "counter" && type != "gauge" && type != "histogram" && type != "summary" && type != "untyped")
    return "unknown metric type \"" + std::string(type) + "\"";
  auto [it, fresh] = out.types.emplace(std::string(name), std::string(type));
  if (!fresh) return "second # TYPE line for " + std::string(name);
  return "";
}

std::string parse_sample(Line& l, Exposition& out) {
  Sample s;
  std::string_view name = l.name(true);
  if (name.empty()) return "expected a metric name";
  s.name = std::string(name);
  const bool blank_after_name = l.peek() == ' ' || l.peek() == '\t';
  l.skip_blanks();
  const bool has_labels = l.peek() == '{';
  if (l.eat('{')) {
    while (true) {
      l.skip_blanks();
      if (l.eat('}')) break;
      std::string_view key = l.name(false);
      if (key.empty()) return "expected a label name or '}'";
      l.skip_blanks();
      if (!l.eat('=')) return "expected '=' after label name";
      l.skip_blanks();
      if (!l.eat('"')) return "expected '\"' to open the label value";
      std::string value, err;
      if (!l.quoted(value, err)) return err;
      for (const auto& kv : s.labels)
        if (kv.first == key) return "duplicate label \"" + std::string(key) + "\"";
      s.labels.emplace_back(std::string(key), std::move(value));
      l.skip_blanks();
      if (l.eat(',')) continue;
      if (l.eat('}')) break;
      return "expected ',' or '}' after a label";
    }
  }
  if (has_labels ? l.peek() != ' ' && l.peek() != '\t' : !blank_after_name)
    return "expected a blank before the value";
  l.skip_blanks();
  std::string_view vt = l.token();
  auto v = parse_value(vt);
  if (!v) return "invalid value \"" + std::string(vt) + "\"";
  s.value = *v;
  l.skip_blanks();
  if (!l.done()) {
    std::string_view ts = l.token();
    int64_t t = 0;
    auto [p, ec] = std::from_chars(ts.data(), ts.data() + ts.size(), t);
    if (ec != std::errc() || p != ts.data() + ts.size()) return "invalid timestamp \"" + std::string(ts) + "\"";
    s.timestamp_ms = t;
    l.skip_blanks();
    if (!l.done()) return "unexpected text after the timestamp";
  }
  out.samples.push_back(std::move(s));
  return "";
}

}  // namespace

const std::string* Sample::label(std::string_view key) const {
  for (const auto& kv : labels)
    if (kv.first == key) return &kv.second;
  return nullptr;
}

Result<Exposition> parse_prometheus_text(std::string_view text) {
  Exposition out;
  size_t pos = 0;
  unsigned line_no = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    std::string_view raw = text.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
    pos = nl == std::string_view::npos ? text.size() : nl + 1;
    ++line_no;
    if (!raw.empty() && raw.back() == '\r') raw.remove_suffix(1);
    Line l(raw);
    l.skip_blanks();
    if (l.done()) continue;
    std::string err = l.peek() == '#' ? parse_comment(l, out) : parse_sample(l, out);
    if (!err.empty()) return make_error("line " + std::to_string(line_no) + ": " + err);
  }
  return out;
}

}  // namespace ebb::scaler
