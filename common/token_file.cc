#include "common/token_file.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <fstream>

#include "common/log.h"

namespace ebb {

Result<std::string> read_token_file(const std::string& path, const std::string& key) {
  std::ifstream in(path);
  if (!in) return make_error(key + " " + path + ": cannot read: " + std::strerror(errno));
  std::string line;
  std::getline(in, line);
  const auto b = line.find_first_not_of(" \t\r\n");
  const auto e = line.find_last_not_of(" \t\r\n");
  if (b == std::string::npos) return make_error(key + " " + path + ": empty");
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0 && (st.st_mode & S_IROTH) != 0)
    log::warn(key + " " + path + " is readable by every user: make it private (chmod 600)");
  return line.substr(b, e - b + 1);
}

}  // namespace ebb
