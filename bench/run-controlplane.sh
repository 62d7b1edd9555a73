#!/bin/sh
# Runs the control-plane benchmark (bench/controlplane) against an
# in-process Paddock server with a bolt store in a temporary directory.
#
#   bench/run-controlplane.sh              full run (1,500 rules, 5,000 pool IPs, 10,000 NICs)
#   bench/run-controlplane.sh -quick       smoke run with smaller sizes
#   bench/run-controlplane.sh -json        results as JSON
#   bench/run-controlplane.sh -only a -cpuprofile cpu.out   profile one scenario
#
# Extra arguments are passed to the program (see -h).
set -eu
cd "$(dirname "$0")/.."
bin="$(mktemp -d)/controlplane"
trap 'rm -rf "$(dirname "$bin")"' EXIT
go build -o "$bin" ./bench/controlplane
"$bin" "$@"
