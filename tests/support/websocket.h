// WebSocket frame codec (RFC 6455 §5) for the test backend's /ws echo: decodes client frames
// (which must be masked) and encodes unmasked server frames. Pure functions, no I/O.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

namespace ebb::testbackend {

enum class WsOpcode : uint8_t {
  continuation = 0x0,
  text = 0x1,
  binary = 0x2,
  close = 0x8,
  ping = 0x9,
  pong = 0xA,
};

struct WsFrame {
  bool fin = false;
  WsOpcode opcode = WsOpcode::continuation;
  std::string payload;  // unmasked
};

enum class WsDecodeStatus { need_more, frame, error };

struct WsDecodeResult {
  WsDecodeStatus status = WsDecodeStatus::need_more;
  size_t consumed = 0;        // bytes of input used by the frame (status == frame)
  WsFrame frame;              // status == frame
  uint16_t close_code = 0;    // status == error: the close code to send (1002, 1009)
  const char* error = "";     // status == error: why
};

// Decodes one client frame from the front of `data`. Frames whose payload exceeds max_payload
// are an error (1009); unmasked frames, reserved bits, unknown opcodes and oversized or
// fragmented control frames are protocol errors (1002).
WsDecodeResult ws_decode_client_frame(std::string_view data, uint64_t max_payload);

// Encodes one unmasked server frame.
std::string ws_encode_frame(bool fin, WsOpcode opcode, std::string_view payload);

// A close frame payload: 2-byte status code (+ no reason).
std::string ws_close_payload(uint16_t code);

}  // namespace ebb::testbackend
