// Runs a stretch of a test out of file descriptors: RLIMIT_NOFILE's soft limit lowered to the
// lowest free descriptor (so every descriptor below it is taken and a new one fails with EMFILE),
// restored when the object goes. No Catch assertion inside such a stretch: UBSan's vptr check
// probes memory through a pipe, and without a descriptor it reports a false "invalid vptr".
#pragma once
#include <sys/resource.h>
#include <unistd.h>

namespace ebb::test {

class OutOfDescriptors {
 public:
  OutOfDescriptors() {
    ::getrlimit(RLIMIT_NOFILE, &saved_);
    int lowest_free = ::dup(0);
    if (lowest_free >= 0) ::close(lowest_free);
    rlimit lim = saved_;
    lim.rlim_cur = static_cast<rlim_t>(lowest_free);
    active_ = lowest_free > 0 && ::setrlimit(RLIMIT_NOFILE, &lim) == 0;
  }
  ~OutOfDescriptors() { ::setrlimit(RLIMIT_NOFILE, &saved_); }
  OutOfDescriptors(const OutOfDescriptors&) = delete;
  OutOfDescriptors& operator=(const OutOfDescriptors&) = delete;
  bool active() const { return active_; }

 private:
  rlimit saved_{};
  bool active_ = false;
};

}  // namespace ebb::test
