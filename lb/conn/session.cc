#include "lb/conn/session.h"

#include "lb/worker.h"

namespace ebb::lb {

void Session::finish() {
  if (finished_) return;
  finished_ = true;
  worker_.session_finished(this);
}

}  // namespace ebb::lb
