//go:build linux

package main

import (
	"fmt"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/paddock-lb/paddock/internal/dataplane"
)

// The benchmark topology. Paddock's VNet 10.0.0.0/16 is served on
// 127.N.0.0/16 (--address-map), so VNet address 10.0.0.X is host address
// 127.N.0.X; HAProxy's frontend is on 127.N+1.0.100 and the in-process
// proxy's on 127.N+2.0.100. N is -net (default 77: other engineers' test
// servers on this machine use 127.10.0.0/16). Every address is loopback.
const (
	webPort   = 8080 // nginx
	iperfPort = 5201 // iperf3 -s
	udpPort   = 9000 // udp-echo
	idlePort  = 7000 // hold-backend
)

var (
	vnetMap   string
	paddockFE string // VNet 10.0.0.100, the LB frontend
	haproxyFE string
	inprocFE  string // `dpbench proxy`

	// Backends (host addresses). Each workload has its own pool so that,
	// for example, every iperf3 connection of one test reaches the same
	// server.
	webBackends   []string // VNet .11, .12
	iperfBackends []string // .21
	udpBackends   []string // .31, .32
	idleBackends  []string // .41
)

func init() { setNet(77) }

// setNet places the topology in 127.n.0.0/16 (and n+1, n+2).
func setNet(n int) {
	host := func(net, last int) string { return fmt.Sprintf("127.%d.0.%d", net, last) }
	vnetMap = fmt.Sprintf("10.0.0.0/16=127.%d.0.0/16", n)
	paddockFE, haproxyFE, inprocFE = host(n, 100), host(n+1, 100), host(n+2, 100)
	webBackends = []string{host(n, 11), host(n, 12)}
	iperfBackends = []string{host(n, 21)}
	udpBackends = []string{host(n, 31), host(n, 32)}
	idleBackends = []string{host(n, 41)}
}

// vnetAddr maps a host backend address back to its VNet address.
func vnetAddr(host string) string {
	return "10.0.0." + host[strings.LastIndexByte(host, '.')+1:]
}

func hostPort(host string, port int) string {
	return net.JoinHostPort(host, strconv.Itoa(port))
}

func joinHostPorts(hosts []string, port int) []string {
	out := make([]string, len(hosts))
	for i, h := range hosts {
		out[i] = hostPort(h, port)
	}
	return out
}

// dataplaneConfig is the configuration that Paddock's control plane
// derives from the load balancer of arm.go, on frontend address fe: it is
// what `dpbench proxy` applies to internal/proxy directly.
func dataplaneConfig(fe string) *dataplane.Config {
	rule := func(name string, hosts []string, port int, idle time.Duration) dataplane.Rule {
		r := dataplane.Rule{Name: "lb/" + name, IdleTimeout: idle}
		for _, h := range hosts {
			r.Backends = append(r.Backends, dataplane.Backend{
				Key:     "pool-" + name + "/" + vnetAddr(h),
				Addr:    netip.MustParseAddrPort(hostPort(h, port)),
				Healthy: true,
			})
		}
		return r
	}
	addr := func(port int) netip.AddrPort { return netip.MustParseAddrPort(hostPort(fe, port)) }
	return &dataplane.Config{Listeners: []dataplane.Listener{
		{Key: "lb/fe/tcp/5201", Addr: addr(iperfPort), Protocol: dataplane.TCP, Rule: rule("iperf", iperfBackends, iperfPort, 30*time.Minute)},
		{Key: "lb/fe/tcp/7000", Addr: addr(idlePort), Protocol: dataplane.TCP, Rule: rule("idle", idleBackends, idlePort, 100*time.Minute)},
		{Key: "lb/fe/tcp/8080", Addr: addr(webPort), Protocol: dataplane.TCP, Rule: rule("web", webBackends, webPort, 30*time.Minute)},
		{Key: "lb/fe/udp/9000", Addr: addr(udpPort), Protocol: dataplane.UDP, Rule: rule("udp", udpBackends, udpPort, 30*time.Minute)},
	}}
}

// procStatus is what the benchmark reads from /proc/PID.
type procStatus struct {
	RSSKiB  int64 `json:"rssKiB"`
	HWMKiB  int64 `json:"hwmKiB"`
	Threads int   `json:"threads"`
	FDs     int   `json:"fds"`
	// SUnreclaimKiB is the system-wide unreclaimable kernel slab
	// (/proc/meminfo), where socket and pipe structures live; it is noisy
	// when other processes run, but moves by tens of KiB per connection
	// when a proxy holds pipes.
	SUnreclaimKiB int64 `json:"sunreclaimKiB"`
}

func readProcStatus(pid int) (procStatus, error) {
	var st procStatus
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return st, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		f := strings.Fields(v)
		if len(f) == 0 {
			continue
		}
		n, _ := strconv.ParseInt(f[0], 10, 64)
		switch k {
		case "VmRSS":
			st.RSSKiB = n
		case "VmHWM":
			st.HWMKiB = n
		case "Threads":
			st.Threads = int(n)
		}
	}
	if ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid)); err == nil {
		st.FDs = len(ents)
	}
	st.SUnreclaimKiB = meminfoKiB("SUnreclaim")
	return st, nil
}

// cpuTime returns the user+system CPU time of a process (all threads).
func cpuTime(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	s := string(b)
	// The command name is in parentheses and may contain spaces.
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, fmt.Errorf("bad /proc/%d/stat", pid)
	}
	f := strings.Fields(s[i+1:])
	// Fields after the name: state(0) ppid(1) ... utime(11) stime(12).
	if len(f) < 13 {
		return 0, fmt.Errorf("bad /proc/%d/stat", pid)
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	const clkTck = 100 // USER_HZ on Linux
	return time.Duration(ut+st) * time.Second / clkTck, nil
}

// ctxSwitches returns the voluntary + involuntary context switches of
// every thread of a process.
func ctxSwitches(pid int) (int64, error) {
	tasks, err := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	if err != nil {
		return 0, err
	}
	var total int64
	for _, t := range tasks {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%s/status", pid, t.Name()))
		if err != nil {
			continue // the thread exited
		}
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.HasSuffix(k, "ctxt_switches") {
				n, _ := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
				total += n
			}
		}
	}
	return total, nil
}

// meminfoKiB returns a field of /proc/meminfo (system-wide), in KiB.
func meminfoKiB(field string) int64 {
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && k == field {
			f := strings.Fields(v)
			if len(f) > 0 {
				n, _ := strconv.ParseInt(f[0], 10, 64)
				return n
			}
		}
	}
	return 0
}

// loadAvg returns the first three fields of /proc/loadavg.
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

func load1() float64 {
	f := strings.Fields(loadAvg())
	if len(f) == 0 {
		return 0
	}
	v, _ := strconv.ParseFloat(f[0], 64)
	return v
}
