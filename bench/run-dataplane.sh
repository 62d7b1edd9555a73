#!/usr/bin/env bash
# Runs the data-plane benchmark (bench/dataplane): the same workloads
# against a direct connection to the backend, Paddock (`paddock serve`
# configured through its ARM API, userspace data plane) and HAProxy 2.6
# (TCP mode), on loopback addresses only (127.0.0.0/8), and prints a
# markdown table with ratios and pass/miss against the targets.
#
#   bench/run-dataplane.sh                      full run (about 6 minutes)
#   bench/run-dataplane.sh -reps 1 -duration 3s quick run
#   bench/run-dataplane.sh -only tcp,http       some sections (idle,tcp,http,udp,remap)
#   bench/run-dataplane.sh -inproc              add a column: internal/proxy in-process,
#                                               without the control plane
#   bench/run-dataplane.sh -profile /tmp/prof   CPU profiles of the in-process proxy per
#                                               workload (+ heap/goroutines with idle conns)
#   DPBENCH_KEEP=1 bench/run-dataplane.sh       keep the work directory (logs, configs,
#                                               results.json)
#
# Extra arguments go to `dpbench run` (see `dpbench run -h`). Installs
# haproxy, iperf3, wrk and nginx from Debian when run as root and they are
# missing. Every process it starts is stopped on exit (trap), and the whole
# run is bounded (DPBENCH_BUDGET seconds, default 570, build included).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/usr/local/go/bin:$HOME/go/bin:$PATH:/usr/sbin:/sbin"
budget="${DPBENCH_BUDGET:-570}"

need=()
for p in haproxy iperf3 wrk nginx; do
  dpkg -s "$p" >/dev/null 2>&1 || need+=("$p")
done
if [ "${#need[@]}" -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "== installing ${need[*]}" >&2
    # Keep the packages' maintainer scripts from starting the system
    # nginx/haproxy services: the benchmark starts its own.
    policy=""
    if [ ! -e /usr/sbin/policy-rc.d ]; then
      policy=/usr/sbin/policy-rc.d
      printf '#!/bin/sh\nexit 101\n' >"$policy"
      chmod +x "$policy"
    fi
    apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >&2 || true
    [ -n "$policy" ] && rm -f "$policy"
  else
    echo "missing Debian packages: ${need[*]} (run as root to install them); their workloads are skipped" >&2
  fi
fi

# Enough descriptors for the idle-connection test (10,000 connections are
# 20,000 descriptors in a proxy). Without CAP_SYS_RESOURCE only up to the
# hard limit; dpbench reports what that allows.
ulimit -n 1048576 2>/dev/null || ulimit -n "$(ulimit -Hn)"

work="$(mktemp -d /tmp/dpbench.XXXXXX)"
pid=""
cleanup() {
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in 1 2 3 4 5 6 7 8 9 10; do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.5
    done
    kill -KILL "$pid" 2>/dev/null || true
  fi
  # Whatever dpbench started and did not stop (it records each child's
  # process group in run/pids): end those groups by id.
  if [ -f "$work/run/pids" ]; then
    while read -r p _; do
      if kill -0 -- "-$p" 2>/dev/null; then
        kill -KILL -- "-$p" 2>/dev/null || true
      fi
    done <"$work/run/pids"
  fi
  if [ "${DPBENCH_KEEP:-0}" = 1 ]; then
    echo "work directory kept: $work" >&2
  else
    rm -rf "$work"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "== $(date -u +%FT%TZ) $(uptime)" >&2
mkdir -p "$work/bin" "$work/run"
go build -o "$work/bin/paddock" ./cmd/paddock
go build -o "$work/bin/dpbench" ./bench/dataplane/cmd/dpbench
left=$((budget - SECONDS))
if [ "$left" -lt 60 ]; then
  echo "build took ${SECONDS}s: no time left in the ${budget}s budget" >&2
  exit 1
fi

"$work/bin/dpbench" run -paddock "$work/bin/paddock" -workdir "$work/run" -timeout "${left}s" "$@" &
pid=$!
rc=0
wait "$pid" || rc=$?
pid=""
echo "== done in ${SECONDS}s; $(uptime)" >&2
exit "$rc"
