#!/usr/bin/env bash
# The main job: installs what is missing, builds, then runs ebb-lb on a default config in front of
# three demo backends, with ebb-scaler managing a second pool. Prints where to look.
# Ctrl-C stops every process it started.
#   EBB_DEMO_PORT (default 8080), EBB_DEMO_ADMIN (default 9901), EBB_DEMO_DIR (default a temp dir)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/scripts/setup.sh"
"$root/scripts/build.sh" normal >/dev/null
bin="$root/build/bin"
port="${EBB_DEMO_PORT:-8080}"
admin="${EBB_DEMO_ADMIN:-9901}"
dir="${EBB_DEMO_DIR:-$(mktemp -d /tmp/ebb-demo.XXXXXX)}"
mkdir -p "$dir"

pids=()
cleanup() {
  trap - INT TERM EXIT
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  # The scaler leaves the backends it launched running when it exits (a restarted scaler
  # re-adopts them from its state file): stop those too, once the scaler is gone.
  if [ -f "$dir/scaler-scaled.json" ]; then
    for pid in $(grep -o '"handle": *"[0-9]*"' "$dir/scaler-scaled.json" | grep -o '[0-9]*'); do
      grep -q ebb-testbackend "/proc/$pid/cmdline" 2>/dev/null && kill -TERM "$pid" 2>/dev/null || true
    done
  fi
  echo "demo: stopped (logs in $dir)"
}
trap cleanup INT TERM EXIT

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
for p in "$port" "$((port + 1))" "$admin" 9001 9002 9003 9902; do
  port_free "$p" || { echo "demo: port $p is in use; set EBB_DEMO_PORT / EBB_DEMO_ADMIN or free it" >&2; exit 1; }
done

for i in 1 2 3; do
  "$bin/ebb-testbackend" --listen "127.0.0.1:900$i" --name "demo-$i" >"$dir/backend-$i.log" 2>&1 &
  pids+=($!)
done

cat >"$dir/lb.toml" <<TOML
[runtime]
workers = 0
log_level = "info"
access_log = "$dir/access.log"
shutdown_grace = "5s"

[admin]
listen = "127.0.0.1:$admin"

[[listeners]]
name = "web"
listen = "127.0.0.1:$port"
mode = "http"
pool = "app"

[[listeners]]
name = "scaled"
listen = "127.0.0.1:$((port + 1))"
mode = "http"
pool = "scaled"

[[pools]]
name = "app"
balance = "round_robin"
backends = [
  { address = "127.0.0.1:9001", weight = 1 },
  { address = "127.0.0.1:9002", weight = 1 },
  { address = "127.0.0.1:9003", weight = 1 },
]
  [pools.health]
  check = "http"
  path = "/healthz"
  interval = "2s"

[[pools]]
name = "scaled"
balance = "least_conn"
managed = true
backends = []
  [pools.health]
  check = "http"
  path = "/healthz"
  interval = "1s"
TOML

cat >"$dir/scaler.toml" <<TOML
[scaler]
pool = "scaled"
lb_admin = ["http://127.0.0.1:$admin"]
metrics_listen = "127.0.0.1:9902"
state_file = "$dir/scaler-scaled.json"
min = 2
max = 6
interval = "5s"

[[scaler.targets]]
metric = "active_per_backend"
target = 10.0

[driver]
type = "process"
command = ["$bin/ebb-testbackend", "--listen", "{address}", "--name", "scaled-{port}"]
ports = "9100-9199"
host = "127.0.0.1"
TOML

"$bin/ebb-lb" -c "$dir/lb.toml" >"$dir/lb.log" 2>&1 &
lb_pid=$!
pids+=($lb_pid)
for _ in $(seq 1 100); do
  (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
  kill -0 "$lb_pid" 2>/dev/null || { echo "demo: ebb-lb exited:"; cat "$dir/lb.log"; exit 1; }
  sleep 0.1
done

"$bin/ebb-scaler" -c "$dir/scaler.toml" >"$dir/scaler.log" 2>&1 &
scaler_pid=$!
pids+=($scaler_pid)

cat <<INFO

ebb demo is running (Ctrl-C stops it all).
  proxy:      curl -i http://127.0.0.1:$port/          (round robin over demo-1..3)
  scaled:     curl -i http://127.0.0.1:$((port + 1))/   (pool "scaled", run by ebb-scaler)
  admin API:  curl http://127.0.0.1:$admin/api/v1/pools
  metrics:    curl http://127.0.0.1:$admin/metrics
  dashboard:  http://127.0.0.1:$admin/
  scaler:     curl http://127.0.0.1:9902/api/v1/decisions   (pool "scaled", min 2, max 6)
  configs, logs, access log: $dir
INFO
wait "$lb_pid"
