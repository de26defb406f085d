#include "lb/conn/proxy_protocol.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <charconv>
#include <cstring>
#include <string_view>

namespace ebb::lb {

namespace {
constexpr char kV2Sig[12] = {'\r', '\n', '\r', '\n', '\0', '\r', '\n', 'Q', 'U', 'I', 'T', '\n'};
constexpr size_t kV1Max = 107;
constexpr size_t kV2Max = 16 + 536;  // header + the largest address block we accept (with TLVs)

bool parse_port(std::string_view s, uint16_t& out) {
  unsigned v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || p != s.data() + s.size() || v > 65535) return false;
  if (s.size() > 1 && s[0] == '0') return false;
  out = static_cast<uint16_t>(v);
  return true;
}
}  // namespace

ProxyProtocolParser::Result ProxyProtocolParser::fail(const char* why) {
  error_ = why;
  return {Status::error, 0};
}

ProxyProtocolParser::Result ProxyProtocolParser::feed(const char* data, size_t len) {
  size_t before = buf_.size();
  // Take only what the header can still need, so `consumed` never covers payload bytes.
  size_t room = kV2Max - buf_.size();
  buf_.append(data, len < room ? len : room);
  // Which version? Decide as soon as the prefix tells.
  size_t n = buf_.size();
  size_t cmp = n < sizeof kV2Sig ? n : sizeof kV2Sig;
  bool maybe_v2 = std::memcmp(buf_.data(), kV2Sig, cmp) == 0;
  bool maybe_v1 = std::string_view(buf_).substr(0, 6) == std::string_view("PROXY ").substr(0, n < 6 ? n : 6);
  if (maybe_v2 && n >= sizeof kV2Sig) return parse_v2(before);
  if (maybe_v1 && n >= 6) return parse_v1(before);
  if (!maybe_v1 && !maybe_v2) return fail("not a PROXY protocol header");
  return {Status::need_more, n - before};
}

ProxyProtocolParser::Result ProxyProtocolParser::parse_v1(size_t before) {
  size_t end = buf_.find("\r\n");
  if (end == std::string::npos) {
    if (buf_.size() >= kV1Max) return fail("PROXY v1 line too long");
    return {Status::need_more, buf_.size() - before};
  }
  if (end + 2 > kV1Max) return fail("PROXY v1 line too long");
  std::string_view line(buf_.data() + 6, end - 6);
  size_t consumed = end + 2 - before;
  buf_.resize(end + 2);
  std::string_view f[5];
  size_t count = 0;
  while (!line.empty() && count < 5) {
    size_t sp = line.find(' ');
    f[count++] = line.substr(0, sp);
    line = sp == std::string_view::npos ? std::string_view() : line.substr(sp + 1);
  }
  if (count >= 1 && f[0] == "UNKNOWN") return {Status::done, consumed};
  if (count != 5 || !line.empty()) return fail("PROXY v1: expected 5 fields");
  uint16_t sport = 0, dport = 0;
  if (!parse_port(f[3], sport) || !parse_port(f[4], dport)) return fail("PROXY v1: bad port");
  std::string src(f[1]);
  if (f[0] == "TCP4") {
    auto* a = reinterpret_cast<sockaddr_in*>(&addr_);
    a->sin_family = AF_INET;
    a->sin_port = htons(sport);
    if (inet_pton(AF_INET, src.c_str(), &a->sin_addr) != 1) return fail("PROXY v1: bad IPv4 address");
  } else if (f[0] == "TCP6") {
    auto* a = reinterpret_cast<sockaddr_in6*>(&addr_);
    a->sin6_family = AF_INET6;
    a->sin6_port = htons(sport);
    if (inet_pton(AF_INET6, src.c_str(), &a->sin6_addr) != 1) return fail("PROXY v1: bad IPv6 address");
  } else {
    return fail("PROXY v1: unknown protocol");
  }
  has_address_ = true;
  return {Status::done, consumed};
}

ProxyProtocolParser::Result ProxyProtocolParser::parse_v2(size_t before) {
  if (buf_.size() < 16) return {Status::need_more, buf_.size() - before};
  auto u8 = [&](size_t i) { return static_cast<uint8_t>(buf_[i]); };
  uint8_t ver_cmd = u8(12), fam = u8(13);
  size_t len = (size_t{u8(14)} << 8) | u8(15);
  if ((ver_cmd >> 4) != 2) return fail("PROXY v2: bad version");
  if (16 + len > kV2Max) return fail("PROXY v2: header too long");
  if (buf_.size() < 16 + len) return {Status::need_more, buf_.size() - before};
  size_t consumed = 16 + len - before;
  uint8_t cmd = ver_cmd & 0x0f;
  if (cmd == 0) return {Status::done, consumed};  // LOCAL: the balancer's own connection
  if (cmd != 1) return fail("PROXY v2: bad command");
  const char* p = buf_.data() + 16;
  if (fam == 0x11) {  // TCP over IPv4
    if (len < 12) return fail("PROXY v2: short IPv4 block");
    auto* a = reinterpret_cast<sockaddr_in*>(&addr_);
    a->sin_family = AF_INET;
    std::memcpy(&a->sin_addr, p, 4);
    std::memcpy(&a->sin_port, p + 8, 2);
    has_address_ = true;
  } else if (fam == 0x21) {  // TCP over IPv6
    if (len < 36) return fail("PROXY v2: short IPv6 block");
    auto* a = reinterpret_cast<sockaddr_in6*>(&addr_);
    a->sin6_family = AF_INET6;
    std::memcpy(&a->sin6_addr, p, 16);
    std::memcpy(&a->sin6_port, p + 32, 2);
    has_address_ = true;
  }
  // Other families (UNSPEC, UDP, unix): accepted, the socket's peer is kept.
  return {Status::done, consumed};
}

}  // namespace ebb::lb
