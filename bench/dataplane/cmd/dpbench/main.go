//go:build linux

// Command dpbench benchmarks Paddock's userspace data plane against a
// direct connection to the backend and against HAProxy, on loopback only.
//
// It is one binary with subcommands so that the orchestrator can start its
// own helpers as separate processes (separate file-descriptor budgets,
// separate CPU accounting) by re-executing itself:
//
//	dpbench run ...          the orchestrator: starts nginx, iperf3, the
//	                         helpers, paddock and haproxy, runs every
//	                         workload and prints a markdown table
//	dpbench udp-echo ...     UDP echo backend (SO_REUSEPORT workers)
//	dpbench udp-load ...     UDP load generator: replies/s over a fixed time
//	dpbench hold-backend ... TCP backend that accepts and holds connections
//	dpbench hold-client ...  opens N idle connections through a proxy and
//	                         reads the proxy's RSS while they are held
//	dpbench rr ...           fixed-rate HTTP request/response latency
//	dpbench remap ...        Maglev remap share (internal/maglev)
//	dpbench proxy ...        internal/proxy in-process with the benchmark
//	                         topology, with pprof, for profiling the data
//	                         plane without the control plane
//	dpbench miniproxy ...    a minimal Go TCP proxy (splice, copy or auto)
//	                         to A/B how internal/proxy moves bytes
//
// bench/run-dataplane.sh builds it and runs `dpbench run`. Every loop is
// bounded in count and time; every address is in 127.0.0.0/8.
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
)

func main() {
	cmd := "run"
	args := os.Args[1:]
	if len(args) > 0 && args[0] != "" && args[0][0] != '-' {
		cmd, args = args[0], args[1:]
	}
	var err error
	switch cmd {
	case "run":
		err = runMain(args)
	case "udp-echo":
		err = udpEchoMain(args)
	case "udp-load":
		err = udpLoadMain(args)
	case "hold-backend":
		err = holdBackendMain(args)
	case "hold-client":
		err = holdClientMain(args)
	case "rr":
		err = rrMain(args)
	case "remap":
		err = remapMain(args)
	case "proxy":
		err = proxyMain(args)
	case "miniproxy":
		err = miniproxyMain(args)
	case "help", "-h", "--help":
		fmt.Fprintln(os.Stderr, "usage: dpbench [run|udp-echo|udp-load|hold-backend|hold-client|rr|remap|proxy|miniproxy] [flags]")
		return
	default:
		err = fmt.Errorf("unknown subcommand %q", cmd)
	}
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "dpbench "+cmd+":", err)
		os.Exit(1)
	}
}
