// Bearer token files shared by ebb-lb ([admin] token_file) and ebb-scaler (token_file): both must
// read the same file the same way, or a token that works for one fails for the other.
#pragma once
#include <string>

#include "common/result.h"

namespace ebb {

// The token is the first line of the file, surrounding blanks trimmed (later lines are ignored,
// so a trailing newline or a comment line is harmless). An unreadable file or an empty first
// line is an error. Warns (never logging the token) when the file is readable by every user.
// `key` names the config key in messages ("admin.token_file", "token_file").
Result<std::string> read_token_file(const std::string& path, const std::string& key = "token_file");

}  // namespace ebb
