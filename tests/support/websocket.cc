#include "tests/support/websocket.h"

namespace ebb::testbackend {

WsDecodeResult ws_decode_client_frame(std::string_view data, uint64_t max_payload) {
  WsDecodeResult r;
  auto fail = [&](uint16_t code, const char* why) {
    r.status = WsDecodeStatus::error;
    r.close_code = code;
    r.error = why;
    return r;
  };
  if (data.size() < 2) return r;
  auto byte = [&](size_t i) { return static_cast<uint8_t>(data[i]); };
  const uint8_t b0 = byte(0), b1 = byte(1);
  const bool fin = b0 & 0x80;
  if (b0 & 0x70) return fail(1002, "reserved bits set");
  const uint8_t op = b0 & 0x0f;
  const bool control = op & 0x8;
  if (op != 0x0 && op != 0x1 && op != 0x2 && op != 0x8 && op != 0x9 && op != 0xA)
    return fail(1002, "unknown opcode");
  if (!(b1 & 0x80)) return fail(1002, "client frame not masked");
  uint64_t len = b1 & 0x7f;
  size_t pos = 2;
  if (len == 126) {
    if (data.size() < pos + 2) return r;
    len = (uint64_t{byte(2)} << 8) | byte(3);
    pos += 2;
  } else if (len == 127) {
    if (data.size() < pos + 8) return r;
    len = 0;
    for (size_t i = 0; i < 8; ++i) len = (len << 8) | byte(2 + i);
    pos += 8;
    if (len >> 63) return fail(1002, "invalid payload length");
  }
  if (control && (!fin || len > 125)) return fail(1002, "invalid control frame");
  if (len > max_payload) return fail(1009, "frame too large");
  if (data.size() < pos + 4) return r;
  const uint8_t mask[4] = {byte(pos), byte(pos + 1), byte(pos + 2), byte(pos + 3)};
  pos += 4;
  if (data.size() - pos < len) return r;
  r.frame.payload.assign(data.substr(pos, len));
  for (size_t i = 0; i < r.frame.payload.size(); ++i) r.frame.payload[i] ^= static_cast<char>(mask[i & 3]);
  r.frame.fin = fin;
  r.frame.opcode = static_cast<WsOpcode>(op);
  r.consumed = pos + len;
  r.status = WsDecodeStatus::frame;
  return r;
}

std::string ws_encode_frame(bool fin, WsOpcode opcode, std::string_view payload) {
  std::string out;
  out.reserve(payload.size() + 10);
  out.push_back(static_cast<char>((fin ? 0x80 : 0) | static_cast<uint8_t>(opcode)));
  const uint64_t len = payload.size();
  if (len < 126) {
    out.push_back(static_cast<char>(len));
  } else if (len <= 0xffff) {
    out.push_back(126);
    out.push_back(static_cast<char>(len >> 8));
    out.push_back(static_cast<char>(len & 0xff));
  } else {
    out.push_back(127);
    for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<char>((len >> shift) & 0xff));
  }
  out.append(payload);
  return out;
}

std::string ws_close_payload(uint16_t code) {
  std::string p;
  p.push_back(static_cast<char>(code >> 8));
  p.push_back(static_cast<char>(code & 0xff));
  return p;
}

}  // namespace ebb::testbackend
