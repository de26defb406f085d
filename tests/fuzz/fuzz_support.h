// Helpers shared by the fuzz targets: an always-on check that aborts (so libFuzzer and the
// replay tests report it as a crash with the message), and the input splitter that delivers a
// byte stream in pieces whose sizes come from the fuzz input.
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

// Not assert(): the check must also run in release (RelWithDebInfo replay) builds.
#define FUZZ_CHECK(cond, what)                                                             \
  do {                                                                                     \
    if (!(cond)) {                                                                         \
      std::fprintf(stderr, "%s:%d: fuzz check failed: %s (%s)\n", __FILE__, __LINE__, #cond, \
                   what);                                                                  \
      std::abort();                                                                        \
    }                                                                                      \
  } while (0)

namespace ebb::fuzz {

// EBB_FUZZ_VERBOSE=1: the targets say what each input did (for curating seeds by hand).
inline bool verbose() {
  static const bool v = std::getenv("EBB_FUZZ_VERBOSE") != nullptr;
  return v;
}

// Input layout of the HTTP fuzzers: [options byte][3 piece-size bytes][stream...]. The stream
// arrives in pieces of s0, s1, s2, s0, ... bytes (a size byte of 0 means "all the rest"), the
// way a socket may cut it anywhere: inside a request line, a CRLF, a chunk-size line, between
// pipelined messages.
class Splitter {
 public:
  static constexpr size_t kPrefix = 4;

  // False if the input is too short to carry the prefix.
  bool init(const uint8_t* data, size_t size) {
    if (size < kPrefix) return false;
    options_ = data[0];
    for (int i = 0; i < 3; ++i) sizes_[i] = data[1 + i];
    stream_ = std::string_view(reinterpret_cast<const char*>(data) + kPrefix, size - kPrefix);
    return true;
  }
  uint8_t options() const { return options_; }
  std::string_view stream() const { return stream_; }
  bool done() const { return pos_ >= stream_.size(); }
  // The next piece (empty once the stream is used up).
  std::string_view next() {
    size_t n = sizes_[turn_++ % 3];
    if (n == 0 || n > stream_.size() - pos_) n = stream_.size() - pos_;
    std::string_view piece = stream_.substr(pos_, n);
    pos_ += n;
    return piece;
  }

 private:
  uint8_t options_ = 0;
  uint8_t sizes_[3] = {0, 0, 0};
  std::string_view stream_;
  size_t pos_ = 0;
  size_t turn_ = 0;
};

}  // namespace ebb::fuzz
