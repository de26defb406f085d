// Running a helper command on the scaler's uv loop: exec driver scripts, systemctl. Collects
// stdout, enforces a timeout (SIGKILL), and retries failures with exponential back-off.
// Loop thread only. Callbacks run on the loop, never from inside the call that started the run.
#pragma once
#include <uv.h>

#include <chrono>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "common/result.h"

namespace ebb::scaler {

struct CommandResult {
  int64_t exit_status = 0;
  int term_signal = 0;
  std::string out;  // stdout, at most 64 KiB
};

using CommandCb = std::function<void(Result<CommandResult>)>;

// Runs argv (argv[0] is looked up in PATH if it has no '/'); stdin is /dev/null, stderr is
// inherited (the scaler's journal). A timeout kills the command and is an error; so is a failure
// to start. A non-zero exit is *not* an error here: the caller decides.
void run_command(uv_loop_t* loop, const std::vector<std::string>& argv, std::chrono::milliseconds timeout,
                 CommandCb cb);

struct RetryPolicy {
  unsigned attempts = 3;                            // including the first
  std::chrono::milliseconds first_backoff{1000};    // doubled after each failure
};

// Runs argv until it exits 0 and `accept` (if given) takes its output, at most `attempts` times,
// waiting between attempts. The error of the last attempt is reported, naming the command.
void run_with_retry(uv_loop_t* loop, const std::vector<std::string>& argv, std::chrono::milliseconds timeout,
                    RetryPolicy retry, std::function<Result<void>(const CommandResult&)> accept, CommandCb cb);

// Replaces every "{key}" of `vars` in each argument.
std::vector<std::string> substitute(const std::vector<std::string>& argv,
                                    const std::map<std::string, std::string>& vars);

// Calls `fn` on the next loop turn (for callbacks that must not run re-entrantly).
void defer(uv_loop_t* loop, std::function<void()> fn);

// "a b c" for logs and errors.
std::string join_argv(const std::vector<std::string>& argv);

}  // namespace ebb::scaler
