#include "scaler/drivers/command.h"

#include <csignal>
#include <memory>

#include "common/uv.h"

namespace ebb::scaler {
namespace {

constexpr size_t kMaxOutput = 64 * 1024;

// One run; owns itself (`self`) until it has reported.
class Run {
 public:
  Run(uv_loop_t* loop, std::vector<std::string> argv, CommandCb cb) : loop_(loop), argv_(std::move(argv)), cb_(std::move(cb)) {}

  static void start(std::shared_ptr<Run> r, std::chrono::milliseconds timeout) {
    r->self_ = r;
    uv_timer_init(r->loop_, r->timer_.get());
    r->timer_.mark_initialized();
    r->timer_->data = r.get();
    uv_pipe_init(r->loop_, r->out_.get(), 0);
    r->out_.mark_initialized();
    r->out_->data = r.get();

    std::vector<char*> args;
    for (auto& a : r->argv_) args.push_back(a.data());
    args.push_back(nullptr);
    uv_stdio_container_t stdio[3];
    stdio[0].flags = UV_IGNORE;
    stdio[1].flags = static_cast<uv_stdio_flags>(UV_CREATE_PIPE | UV_WRITABLE_PIPE);
    stdio[1].data.stream = r->out_.stream();
    stdio[2].flags = UV_INHERIT_FD;
    stdio[2].data.fd = 2;
    uv_process_options_t opts{};
    opts.file = args[0];
    opts.args = args.data();
    opts.stdio = stdio;
    opts.stdio_count = 3;
    opts.exit_cb = [](uv_process_t* p, int64_t status, int sig) {
      auto* self = static_cast<Run*>(p->data);
      self->exited_ = true;
      self->result_.exit_status = status;
      self->result_.term_signal = sig;
      self->maybe_finish();
    };
    r->proc_->data = r.get();
    const int rc = r->argv_.empty() ? UV_EINVAL : uv_spawn(r->loop_, r->proc_.get(), &opts);
    r->proc_.mark_initialized();  // on unix uv_spawn initialises the handle even when it fails
    if (rc != 0) {
      r->error_ = "cannot run " + (r->argv_.empty() ? std::string("an empty command") : r->argv_[0]) + ": " + uv_strerror(rc);
      // report on the next loop turn, never re-entrantly
      uv_timer_start(r->timer_.get(), [](uv_timer_t* t) { static_cast<Run*>(t->data)->finish(); }, 0, 0);
      return;
    }
    uv_read_start(
        r->out_.stream(),
        [](uv_handle_t*, size_t suggested, uv_buf_t* buf) {
          buf->base = new char[suggested];
          buf->len = suggested;
        },
        [](uv_stream_t* s, ssize_t n, const uv_buf_t* buf) {
          std::unique_ptr<char[]> owned(buf->base);
          auto* self = static_cast<Run*>(s->data);
          if (n > 0) {
            size_t room = kMaxOutput - std::min(kMaxOutput, self->result_.out.size());
            self->result_.out.append(buf->base, std::min(room, static_cast<size_t>(n)));
          } else if (n < 0) {
            uv_read_stop(s);
            self->eof_ = true;
            self->maybe_finish();
          }
        });
    if (timeout.count() > 0)
      uv_timer_start(
          r->timer_.get(),
          [](uv_timer_t* t) {
            auto* self = static_cast<Run*>(t->data);
            self->timed_out_ = true;
            uv_process_kill(self->proc_.get(), SIGKILL);
          },
          static_cast<uint64_t>(timeout.count()), 0);
  }

 private:
  void maybe_finish() {
    if (exited_ && eof_) finish();
  }
  void finish() {
    auto keep = std::move(self_);  // released at the end of this scope: handles close
    if (!keep) return;
    uv_timer_stop(timer_.get());
    CommandCb cb = std::move(cb_);
    if (!error_.empty()) cb(make_error(error_));
    else if (timed_out_) cb(make_error(join_argv(argv_) + ": timed out"));
    else cb(std::move(result_));
  }

  uv_loop_t* loop_;
  std::vector<std::string> argv_;
  CommandCb cb_;
  std::shared_ptr<Run> self_;
  UvHandle<uv_process_t> proc_;
  UvHandle<uv_pipe_t> out_;
  UvHandle<uv_timer_t> timer_;
  CommandResult result_;
  std::string error_;
  bool exited_ = false, eof_ = false, timed_out_ = false;
};

// Retries; owns itself between attempts.
class Retry : public std::enable_shared_from_this<Retry> {
 public:
  Retry(uv_loop_t* loop, std::vector<std::string> argv, std::chrono::milliseconds timeout, RetryPolicy policy,
        std::function<Result<void>(const CommandResult&)> accept, CommandCb cb)
      : loop_(loop), argv_(std::move(argv)), timeout_(timeout), policy_(policy), accept_(std::move(accept)),
        cb_(std::move(cb)), backoff_(policy.first_backoff) {
    uv_timer_init(loop_, timer_.get());
    timer_.mark_initialized();
    timer_->data = this;
  }

  void attempt() {
    ++tries_;
    run_command(loop_, argv_, timeout_, [self = shared_from_this()](Result<CommandResult> r) { self->done(std::move(r)); });
  }

 private:
  void done(Result<CommandResult> r) {
    std::string err;
    if (!r) {
      err = r.error();
    } else if (r->term_signal != 0) {
      err = join_argv(argv_) + ": killed by signal " + std::to_string(r->term_signal);
    } else if (r->exit_status != 0) {
      err = join_argv(argv_) + ": exit status " + std::to_string(r->exit_status);
    } else if (accept_) {
      auto ok = accept_(*r);
      if (!ok) err = join_argv(argv_) + ": " + ok.error();
    }
    if (err.empty()) {
      cb_(std::move(r));
      return;
    }
    if (tries_ >= policy_.attempts) {
      cb_(make_error(err + (tries_ > 1 ? " (after " + std::to_string(tries_) + " attempts)" : "")));
      return;
    }
    self_ = shared_from_this();  // alive until the timer fires
    uv_timer_start(
        timer_.get(),
        [](uv_timer_t* t) {
          auto* me = static_cast<Retry*>(t->data);
          auto keep = std::move(me->self_);
          me->attempt();
        },
        static_cast<uint64_t>(backoff_.count()), 0);
    backoff_ *= 2;
  }

  uv_loop_t* loop_;
  std::vector<std::string> argv_;
  std::chrono::milliseconds timeout_;
  RetryPolicy policy_;
  std::function<Result<void>(const CommandResult&)> accept_;
  CommandCb cb_;
  std::chrono::milliseconds backoff_;
  unsigned tries_ = 0;
  std::shared_ptr<Retry> self_;
  UvHandle<uv_timer_t> timer_;
};

}  // namespace

void run_command(uv_loop_t* loop, const std::vector<std::string>& argv, std::chrono::milliseconds timeout,
                 CommandCb cb) {
  Run::start(std::make_shared<Run>(loop, argv, std::move(cb)), timeout);
}

void run_with_retry(uv_loop_t* loop, const std::vector<std::string>& argv, std::chrono::milliseconds timeout,
                    RetryPolicy retry, std::function<Result<void>(const CommandResult&)> accept, CommandCb cb) {
  if (retry.attempts == 0) retry.attempts = 1;
  std::make_shared<Retry>(loop, argv, timeout, retry, std::move(accept), std::move(cb))->attempt();
}

std::vector<std::string> substitute(const std::vector<std::string>& argv,
                                    const std::map<std::string, std::string>& vars) {
  std::vector<std::string> out;
  for (std::string a : argv) {
    for (const auto& [key, value] : vars) {
      const std::string pat = "{" + key + "}";
      for (size_t pos = a.find(pat); pos != std::string::npos; pos = a.find(pat, pos + value.size()))
        a.replace(pos, pat.size(), value);
    }
    out.push_back(std::move(a));
  }
  return out;
}

void defer(uv_loop_t* loop, std::function<void()> fn) {
  struct Deferred {
    UvHandle<uv_timer_t> timer;
    std::function<void()> fn;
  };
  auto* d = new Deferred{UvHandle<uv_timer_t>(), std::move(fn)};  // owned by the timer callback below
  uv_timer_init(loop, d->timer.get());
  d->timer.mark_initialized();
  d->timer->data = d;
  uv_timer_start(
      d->timer.get(),
      [](uv_timer_t* t) {
        std::unique_ptr<Deferred> owned(static_cast<Deferred*>(t->data));
        auto fn = std::move(owned->fn);
        owned.reset();  // closes the timer
        fn();
      },
      0, 0);
}

std::string join_argv(const std::vector<std::string>& argv) {
  std::string s;
  for (const auto& a : argv) s += (s.empty() ? "" : " ") + a;
  return s;
}

}  // namespace ebb::scaler
