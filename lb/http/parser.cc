// First commit: interface only; the llhttp implementation follows in the next commit.
#include "lb/http/parser.h"

namespace ebb::lb::http {

struct RequestParser::Impl {
  RequestHead head;
};
struct ResponseParser::Impl {
  ResponseHead head;
};

RequestParser::RequestParser(RequestSink&, const ParserLimits&) : impl_(std::make_unique<Impl>()) {}
RequestParser::~RequestParser() = default;
ParseResult RequestParser::feed(const char*, size_t) {
  return {ParseStatus::error, 0, 500, "not implemented yet"};
}
ParseResult RequestParser::finish() { return {ParseStatus::error, 0, 500, "not implemented yet"}; }
void RequestParser::reset() {}
bool RequestParser::idle() const { return true; }
bool RequestParser::in_head() const { return false; }
const RequestHead& RequestParser::head() const { return impl_->head; }

ResponseParser::ResponseParser(ResponseSink&, const ParserLimits&) : impl_(std::make_unique<Impl>()) {}
ResponseParser::~ResponseParser() = default;
void ResponseParser::expect(bool, bool) {}
ParseResult ResponseParser::feed(const char*, size_t) {
  return {ParseStatus::error, 0, 502, "not implemented yet"};
}
ParseResult ResponseParser::finish() { return {ParseStatus::error, 0, 502, "not implemented yet"}; }
void ResponseParser::reset() {}
bool ResponseParser::idle() const { return true; }
const ResponseHead& ResponseParser::head() const { return impl_->head; }

}  // namespace ebb::lb::http
