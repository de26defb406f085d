// First commit: interface only; the implementation follows in the next commit.
#include "lb/http/rewrite.h"

namespace ebb::lb::http {

BodyFraming write_upstream_request_head(const RequestHead&, const ForwardInfo&, std::string&) {
  return BodyFraming::none;
}
DownstreamHead write_downstream_response_head(const ResponseHead&, const ResponseRewrite&,
                                              std::string&) {
  return {};
}
void append_chunk(std::string&, const char*, size_t) {}
void append_chunk_header(std::string&, size_t) {}
void append_chunk_end(std::string&) {}
void append_last_chunk(std::string&) {}
void append_request_id(std::string&) {}

}  // namespace ebb::lb::http
