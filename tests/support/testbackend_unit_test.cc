// Unit tests for the test backend's pure parts: the WebSocket codec, the handshake key and the
// request-target parser.
#include <catch2/catch.hpp>
#include <string>

#include "tests/support/digest.h"
#include "tests/support/request_target.h"
#include "tests/support/websocket.h"

using namespace ebb::testbackend;

namespace {
std::string masked_frame(uint8_t first, std::string_view payload, std::string_view mask = "\x11\x22\x33\x44") {
  std::string f;
  f.push_back(static_cast<char>(first));
  const uint64_t n = payload.size();
  if (n < 126) {
    f.push_back(static_cast<char>(0x80 | n));
  } else if (n <= 0xffff) {
    f.push_back(static_cast<char>(0x80 | 126));
    f.push_back(static_cast<char>(n >> 8));
    f.push_back(static_cast<char>(n & 0xff));
  } else {
    f.push_back(static_cast<char>(0x80 | 127));
    for (int s = 56; s >= 0; s -= 8) f.push_back(static_cast<char>((n >> s) & 0xff));
  }
  f += mask;
  for (size_t i = 0; i < payload.size(); ++i) f.push_back(static_cast<char>(payload[i] ^ mask[i % 4]));
  return f;
}
}  // namespace

TEST_CASE("websocket accept key: the RFC 6455 example") {
  CHECK(websocket_accept_key("dGhlIHNhbXBsZSBub25jZQ==") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

TEST_CASE("sha256 of the empty string and of data fed in pieces") {
  Sha256 empty;
  CHECK(empty.hex_digest() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  Sha256 pieces;
  pieces.update("hello ");
  pieces.update("world");
  CHECK(pieces.hex_digest() == "b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9");
}

TEST_CASE("websocket: decodes masked frames of every length encoding") {
  for (size_t n : {size_t{0}, size_t{5}, size_t{125}, size_t{126}, size_t{65535}, size_t{65536}, size_t{100000}}) {
    std::string payload(n, 'x');
    for (size_t i = 0; i < n; ++i) payload[i] = static_cast<char>(i * 31);
    std::string frame = masked_frame(0x82, payload);
    WsDecodeResult r = ws_decode_client_frame(frame, 1 << 20);
    REQUIRE(r.status == WsDecodeStatus::frame);
    CHECK(r.consumed == frame.size());
    CHECK(r.frame.fin);
    CHECK(r.frame.opcode == WsOpcode::binary);
    CHECK(r.frame.payload == payload);
    // Every proper prefix is "need more", never an error or a frame.
    for (size_t cut : {size_t{0}, size_t{1}, size_t{2}, frame.size() / 2, frame.size() - 1})
      if (cut < frame.size()) CHECK(ws_decode_client_frame(std::string_view(frame).substr(0, cut), 1 << 20).status ==
                                    WsDecodeStatus::need_more);
  }
}

TEST_CASE("websocket: protocol errors") {
  std::string unmasked = "\x81\x02hi";
  CHECK(ws_decode_client_frame(unmasked, 1024).close_code == 1002);
  CHECK(ws_decode_client_frame(masked_frame(0xC1, "x"), 1024).close_code == 1002);  // RSV1
  CHECK(ws_decode_client_frame(masked_frame(0x83, "x"), 1024).close_code == 1002);  // opcode 3
  CHECK(ws_decode_client_frame(masked_frame(0x09, "x"), 1024).close_code == 1002);  // fragmented ping
  CHECK(ws_decode_client_frame(masked_frame(0x89, std::string(126, 'p')), 1024).close_code == 1002);
  WsDecodeResult big = ws_decode_client_frame(masked_frame(0x82, std::string(2000, 'b')), 1024);
  CHECK(big.status == WsDecodeStatus::error);
  CHECK(big.close_code == 1009);
  std::string huge("\x82\xff\x80\x00\x00\x00\x00\x00\x00\x00", 10);  // 2^63: invalid length
  CHECK(ws_decode_client_frame(huge, 1024).status == WsDecodeStatus::error);
}

TEST_CASE("websocket: encodes unmasked frames") {
  CHECK(ws_encode_frame(true, WsOpcode::text, "hi") == std::string("\x81\x02hi", 4));
  std::string mid = ws_encode_frame(false, WsOpcode::binary, std::string(300, 'a'));
  CHECK(mid.substr(0, 4) == std::string("\x02\x7e\x01\x2c", 4));
  std::string big = ws_encode_frame(true, WsOpcode::binary, std::string(70000, 'a'));
  CHECK(big.size() == 70000 + 10);
  CHECK(static_cast<uint8_t>(big[1]) == 127);
  CHECK(ws_close_payload(1000) == std::string("\x03\xe8", 2));
}

TEST_CASE("request target: path, query and bounded numbers") {
  RequestTarget t = parse_request_target("/delay?ms=250&x&&y=2#frag");
  CHECK(t.path == "/delay");
  REQUIRE(t.param("ms"));
  CHECK(*t.param("ms") == "250");
  REQUIRE(t.param("x"));
  CHECK(t.param("x")->empty());
  CHECK(*t.param("y") == "2");
  CHECK(query_number(t, "ms", 0, 1000) == 250u);
  CHECK(query_number(t, "missing", 7, 1000) == 7u);
  CHECK_FALSE(query_number(t, "ms", 0, 100).has_value());
  CHECK_FALSE(query_number(t, "x", 0, 100).has_value());
  CHECK(parse_request_target("http://host:80/status/503?a=1").path == "/status/503");
  CHECK(parse_request_target("http://host:80").path == "/");
  CHECK(parse_request_target("*").path == "*");
  for (const char* bad : {"-1", "+1", "1.5", "0x10", "99999999999999999999999", " 1", ""})
    CHECK_FALSE(parse_decimal(bad, UINT64_MAX).has_value());
  CHECK(parse_decimal("18446744073709551615", UINT64_MAX) == UINT64_MAX);
}
