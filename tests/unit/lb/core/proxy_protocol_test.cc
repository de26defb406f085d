#include "lb/conn/proxy_protocol.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <catch2/catch.hpp>

#include <string>
#include <vector>

using ebb::lb::ProxyProtocolParser;
using Status = ProxyProtocolParser::Status;

namespace {
std::string ip_of(const sockaddr_storage& a) {
  char buf[INET6_ADDRSTRLEN] = {0};
  if (a.ss_family == AF_INET)
    inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in&>(a).sin_addr, buf, sizeof buf);
  else
    inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6&>(a).sin6_addr, buf, sizeof buf);
  return buf;
}
uint16_t port_of(const sockaddr_storage& a) {
  return ntohs(a.ss_family == AF_INET ? reinterpret_cast<const sockaddr_in&>(a).sin_port
                                      : reinterpret_cast<const sockaddr_in6&>(a).sin6_port);
}
std::string v2(uint8_t cmd, uint8_t fam, const std::string& block) {
  std::string h("\r\n\r\n\0\r\nQUIT\n", 12);
  h += static_cast<char>(0x20 | cmd);
  h += static_cast<char>(fam);
  h += static_cast<char>(block.size() >> 8);
  h += static_cast<char>(block.size() & 0xff);
  return h + block;
}
}  // namespace

TEST_CASE("PROXY v1 TCP4 in one piece leaves the payload unconsumed", "[proxy_protocol]") {
  ProxyProtocolParser p;
  std::string in = "PROXY TCP4 203.0.113.7 10.0.0.1 5555 80\r\nGET / HTTP/1.1\r\n";
  auto r = p.feed(in.data(), in.size());
  REQUIRE(r.status == Status::done);
  CHECK(in.substr(r.consumed) == "GET / HTTP/1.1\r\n");
  REQUIRE(p.has_address());
  CHECK(ip_of(p.address()) == "203.0.113.7");
  CHECK(port_of(p.address()) == 5555);
}

TEST_CASE("PROXY v1 TCP6 byte by byte", "[proxy_protocol]") {
  ProxyProtocolParser p;
  std::string in = "PROXY TCP6 2001:db8::1 2001:db8::2 4000 443\r\nX";
  size_t i = 0;
  ProxyProtocolParser::Result r;
  for (; i < in.size(); ++i) {
    r = p.feed(&in[i], 1);
    if (r.status != Status::need_more) break;
    CHECK(r.consumed == 1);
  }
  REQUIRE(r.status == Status::done);
  CHECK(r.consumed == 1);
  CHECK(in[i + 1] == 'X');
  CHECK(ip_of(p.address()) == "2001:db8::1");
  CHECK(port_of(p.address()) == 4000);
}

TEST_CASE("PROXY v1 UNKNOWN keeps the socket address", "[proxy_protocol]") {
  ProxyProtocolParser p;
  std::string in = "PROXY UNKNOWN\r\n";
  auto r = p.feed(in.data(), in.size());
  CHECK(r.status == Status::done);
  CHECK(r.consumed == in.size());
  CHECK_FALSE(p.has_address());
}

TEST_CASE("PROXY v1 errors", "[proxy_protocol]") {
  for (std::string bad : std::vector<std::string>{"GET / HTTP/1.1\r\n", "PROXY TCP4 1.2.3.4 5.6.7.8 70000 80\r\n",
                          "PROXY TCP4 1.2.3 5.6.7.8 1 80\r\n", "PROXY TCP5 1.2.3.4 5.6.7.8 1 80\r\n",
                          "PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n", "PROXY " + std::string(200, 'a')}) {
    ProxyProtocolParser p;
    CHECK(p.feed(bad.data(), bad.size()).status == Status::error);
  }
}

TEST_CASE("PROXY v2 IPv4, IPv6 with TLVs, LOCAL", "[proxy_protocol]") {
  {
    ProxyProtocolParser p;
    std::string block("\xc6\x33\x64\x05\x0a\x00\x00\x01\x1f\x90\x00\x50", 12);
    std::string in = v2(1, 0x11, block) + "payload";
    auto r = p.feed(in.data(), in.size());
    REQUIRE(r.status == Status::done);
    CHECK(in.substr(r.consumed) == "payload");
    CHECK(ip_of(p.address()) == "198.51.100.5");
    CHECK(port_of(p.address()) == 8080);
  }
  {
    ProxyProtocolParser p;
    std::string block(36, '\0');
    block[0] = '\x20';
    block[1] = '\x01';
    block[15] = '\x09';
    block[32] = '\x01';
    block[33] = '\x02';
    block += std::string("\x04\x00\x02zz", 5);  // a TLV, skipped
    std::string in = v2(1, 0x21, block);
    auto r1 = p.feed(in.data(), 10);
    CHECK(r1.status == Status::need_more);
    auto r2 = p.feed(in.data() + 10, in.size() - 10);
    REQUIRE(r2.status == Status::done);
    CHECK(r1.consumed + r2.consumed == in.size());
    CHECK(ip_of(p.address()) == "2001::9");
    CHECK(port_of(p.address()) == 258);
  }
  {
    ProxyProtocolParser p;
    std::string in = v2(0, 0x00, "");
    auto r = p.feed(in.data(), in.size());
    CHECK(r.status == Status::done);
    CHECK_FALSE(p.has_address());
  }
}
