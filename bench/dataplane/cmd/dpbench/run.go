//go:build linux

package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// runCfg are the orchestrator's flags.
type runCfg struct {
	paddockBin  string
	workdir     string
	duration    time.Duration
	reps        int
	wrkThreads  int
	wrkConns    int
	rateClose   float64
	rateKA      float64
	kaConns     int
	idleConns   int
	idleStage   int
	udpSockets  int
	sections    map[string]bool
	inproc      bool
	profileDir  string
	jsonPath    string
	timeout     time.Duration
	maxWaitLoad float64
	net         int
	variants    []string
	inprocProcs int
	inprocLoops int
}

// benchPath is one way to the backends.
type benchPath struct {
	name  string // direct, paddock, haproxy, inproc
	label string
	web   string   // host:port of the HTTP workload
	iperf string   // host:port of iperf3
	idle  string   // host:port of the idle-connection workload; "" n/a
	udp   []string // UDP targets; nil: not applicable
	proc  *child   // the proxy process; nil for direct
	pprof string   // pprof address (inproc)
}

// sample is one measurement: metric name → value.
type sample map[string]float64

type bench struct {
	cfg      runCfg
	ps       *procs
	self     string
	start    time.Time
	paths    []*benchPath
	res      map[string]map[string][]sample // workload → path → samples
	errs     map[string]map[string][]string
	idle     map[string]holdResult
	remap    *remapResult
	notes    []string
	loads    []string
	env      []string
	iperfSrv *child
	profiled map[string]bool
	hard     uint64 // RLIMIT_NOFILE hard limit
}

func runMain(args []string) error {
	var cfg runCfg
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.StringVar(&cfg.paddockBin, "paddock", "", "paddock binary (go build ./cmd/paddock)")
	fs.StringVar(&cfg.workdir, "workdir", "", "directory for configs, logs and results (default: a new temporary one)")
	fs.DurationVar(&cfg.duration, "duration", 5*time.Second, "length of each measurement")
	fs.IntVar(&cfg.reps, "reps", 3, "repetitions of each measurement (the median is reported); paths are interleaved")
	fs.IntVar(&cfg.wrkThreads, "wrk-threads", 2, "wrk -t")
	fs.IntVar(&cfg.wrkConns, "wrk-conns", 32, "wrk -c")
	fs.Float64Var(&cfg.rateClose, "rate-close", 1000, "fixed rate (req/s) of the new-connection latency run")
	fs.Float64Var(&cfg.rateKA, "rate-keepalive", 2000, "fixed rate (req/s) of the keep-alive latency run")
	fs.IntVar(&cfg.kaConns, "keepalive-conns", 16, "connections of the fixed-rate keep-alive run")
	fs.IntVar(&cfg.idleConns, "idle-conns", 10000, "idle connections to hold (capped by RLIMIT_NOFILE: a proxy needs 2 fds per connection)")
	fs.IntVar(&cfg.idleStage, "idle-stage", 3000, "also measure RSS at this many idle connections (a count every proxy can hold)")
	fs.IntVar(&cfg.udpSockets, "udp-sockets", 8, "UDP client sockets")
	only := fs.String("only", "idle,tcp,http,udp,remap", "sections to run, in this order")
	fs.BoolVar(&cfg.inproc, "inproc", false, "add a column: internal/proxy in-process (`dpbench proxy`), without the control plane")
	fs.IntVar(&cfg.inprocProcs, "inproc-gomaxprocs", 0, "GOMAXPROCS of the in-process proxy (0: default)")
	fs.IntVar(&cfg.inprocLoops, "inproc-event-loops", 0, "event loops of the in-process proxy (0: default, -1: none, the goroutine path only)")
	fs.StringVar(&cfg.profileDir, "profile", "", "write CPU profiles of the in-process proxy (implies -inproc) per workload into this directory")
	fs.StringVar(&cfg.jsonPath, "json", "", "also write every sample as JSON to this file")
	fs.DurationVar(&cfg.timeout, "timeout", 9*time.Minute, "deadline of the whole run")
	fs.Float64Var(&cfg.maxWaitLoad, "wait-load", 0, "before starting, wait up to 60s for the 1-minute load average to fall below this (0: do not wait)")
	variants := fs.String("variants", "", "add columns for `dpbench miniproxy` variants: comma-separated MODE or MODE-noka (MODE: splice, copy, auto; -noka: no TCP keep-alive), e.g. splice,splice-noka,copy-noka,auto-noka")
	fs.IntVar(&cfg.net, "net", 77, "use 127.N.0.0/16 (Paddock's address map and backends), 127.N+1.0.100 (HAProxy), 127.N+2.0.100 (in-process proxy)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if cfg.net < 1 || cfg.net > 240 {
		return errors.New("-net must be in 1..240")
	}
	if *variants != "" {
		cfg.variants = strings.Split(*variants, ",")
		if len(cfg.variants) > 10 {
			return errors.New("at most 10 -variants")
		}
	}
	setNet(cfg.net)
	cfg.sections = map[string]bool{}
	for _, s := range strings.Split(*only, ",") {
		cfg.sections[strings.TrimSpace(s)] = true
	}
	if cfg.profileDir != "" {
		cfg.inproc = true
		if err := os.MkdirAll(cfg.profileDir, 0o755); err != nil {
			return err
		}
	}
	if cfg.paddockBin == "" {
		return errors.New("-paddock is required")
	}
	if cfg.reps < 1 {
		cfg.reps = 1
	}
	if cfg.workdir == "" {
		d, err := os.MkdirTemp("", "dpbench-")
		if err != nil {
			return err
		}
		cfg.workdir = d
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, cfg.timeout)
	defer cancel()

	self, err := os.Executable()
	if err != nil {
		return err
	}
	ps, err := newProcs(cfg.workdir)
	if err != nil {
		return err
	}
	defer ps.stopAll()
	b := &bench{
		cfg: cfg, ps: ps, self: self, start: time.Now(),
		res:      map[string]map[string][]sample{},
		errs:     map[string]map[string][]string{},
		idle:     map[string]holdResult{},
		profiled: map[string]bool{},
	}
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err == nil {
		b.hard = rl.Max
	}
	if cfg.maxWaitLoad > 0 {
		for i := 0; i < 60 && load1() > cfg.maxWaitLoad && ctx.Err() == nil; i++ {
			time.Sleep(time.Second)
		}
	}
	b.describeEnv()
	b.logf("workdir %s (logs, configs, results.json)", cfg.workdir)
	if err := b.setup(ctx); err != nil {
		return fmt.Errorf("setup: %w (logs in %s)", err, cfg.workdir)
	}
	for _, s := range strings.Split(*only, ",") {
		if ctx.Err() != nil {
			b.notes = append(b.notes, "run deadline reached: later sections skipped")
			break
		}
		b.section(strings.TrimSpace(s))
		switch strings.TrimSpace(s) {
		case "idle":
			b.runIdle(ctx)
		case "tcp":
			b.runTCP(ctx)
		case "http":
			b.runHTTP(ctx)
		case "udp":
			b.runUDP(ctx)
		case "remap":
			r, err := remap(10, 1_000_000)
			if err != nil {
				return err
			}
			b.remap = &r
		default:
			return fmt.Errorf("unknown section %q", s)
		}
	}
	b.section("end")
	b.report(os.Stdout)
	return b.writeJSON()
}

func (b *bench) logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "[%5.1fs] %s\n", time.Since(b.start).Seconds(), fmt.Sprintf(format, args...))
}

func (b *bench) section(name string) {
	l := fmt.Sprintf("%s: load %s", name, loadAvg())
	b.loads = append(b.loads, l)
	b.logf("== %s", l)
}

func (b *bench) describeEnv() {
	host, _ := os.Hostname()
	kernel, _ := os.ReadFile("/proc/sys/kernel/osrelease")
	b.env = append(b.env,
		fmt.Sprintf("host %s, %d CPUs, kernel %s, %s", host, runtime.NumCPU(), strings.TrimSpace(string(kernel)), runtime.Version()),
		fmt.Sprintf("load average at start: %s", loadAvg()),
		fmt.Sprintf("RLIMIT_NOFILE hard limit: %d", b.hard),
	)
	for _, v := range [][]string{{"haproxy", "-v"}, {"nginx", "-v"}, {"iperf3", "-v"}, {"wrk", "-v"}} {
		out, _ := exec.Command(v[0], v[1]).CombinedOutput()
		line := strings.TrimSpace(strings.SplitN(string(out), "\n", 2)[0])
		if line == "" {
			line = v[0] + ": not found"
		}
		b.env = append(b.env, line)
	}
}

func have(tool string) bool {
	_, err := exec.LookPath(tool)
	return err == nil
}

// maxIdle is how many connections a proxy can hold under RLIMIT_NOFILE:
// two descriptors per connection and some slack.
func (b *bench) maxIdle() int {
	n := b.cfg.idleConns
	if b.hard > 0 && b.hard < 1<<30 {
		n = min(n, int(b.hard-100)/2)
	}
	return n
}

func (b *bench) setup(ctx context.Context) error {
	b.paths = append(b.paths, &benchPath{name: "direct", label: "direct",
		web: hostPort(webBackends[0], webPort), iperf: hostPort(iperfBackends[0], iperfPort),
		udp: joinHostPorts(udpBackends, udpPort)})

	// Backends.
	if have("nginx") {
		conf, err := writeNginxConf(b.cfg.workdir)
		if err != nil {
			return err
		}
		root := filepath.Dir(conf)
		if err := checkFree("tcp", joinHostPorts(webBackends, webPort)...); err != nil {
			return err
		}
		ng, err := b.ps.start("nginx", "nginx", "-p", root, "-e", filepath.Join(root, "logs", "error.log"), "-c", conf, "-g", "daemon off;")
		if err != nil {
			return err
		}
		for _, a := range joinHostPorts(webBackends, webPort) {
			if err := waitListen(ctx, ng, a, 10*time.Second); err != nil {
				return err
			}
		}
	} else {
		b.notes = append(b.notes, "nginx not installed: HTTP workloads skipped")
		delete(b.cfg.sections, "http")
	}
	if have("iperf3") {
		if err := checkFree("tcp", hostPort(iperfBackends[0], iperfPort)); err != nil {
			return err
		}
		if err := b.startIperfServer(ctx); err != nil {
			return err
		}
	} else {
		b.notes = append(b.notes, "iperf3 not installed: TCP throughput skipped")
		delete(b.cfg.sections, "tcp")
	}
	if err := checkFree("udp", joinHostPorts(udpBackends, udpPort)...); err != nil {
		return err
	}
	if _, err := b.ps.start("udp-echo", b.self, "udp-echo", "-listen", strings.Join(joinHostPorts(udpBackends, udpPort), ",")); err != nil {
		return err
	}
	for _, a := range joinHostPorts(udpBackends, udpPort) {
		if err := waitUDPEcho(ctx, a, 10*time.Second); err != nil {
			return err
		}
	}
	if err := checkFree("tcp", hostPort(idleBackends[0], idlePort)); err != nil {
		return err
	}
	hb, err := b.ps.start("hold-backend", b.self, "hold-backend", "-listen", hostPort(idleBackends[0], idlePort))
	if err != nil {
		return err
	}
	if err := waitListen(ctx, hb, hostPort(idleBackends[0], idlePort), 10*time.Second); err != nil {
		return err
	}
	frontends := func(fe string) []string {
		return []string{hostPort(fe, webPort), hostPort(fe, iperfPort), hostPort(fe, idlePort)}
	}

	// Paddock, configured through its ARM API.
	port, err := freePort()
	if err != nil {
		return err
	}
	api := hostPort("127.0.0.1", port)
	if err := checkFree("tcp", frontends(paddockFE)...); err != nil {
		return err
	}
	if err := checkFree("udp", hostPort(paddockFE, udpPort)); err != nil {
		return err
	}
	pd, err := b.ps.start("paddock", b.cfg.paddockBin, "serve", "--insecure-http", "--listen", api,
		"--data-dir", filepath.Join(b.cfg.workdir, "paddock-data"), "--address-map", vnetMap, "--log-level", "warn")
	if err != nil {
		return err
	}
	a := &arm{base: "http://" + api, hc: &http.Client{Timeout: 30 * time.Second}}
	if err := waitHTTP(ctx, a.base+"/healthz", 30*time.Second); err != nil {
		return err
	}
	t0 := time.Now()
	if err := a.configurePaddock(ctx); err != nil {
		return err
	}
	if err := waitListen(ctx, pd, hostPort(paddockFE, webPort), 20*time.Second); err != nil {
		return err
	}
	if err := waitUDPEcho(ctx, hostPort(paddockFE, udpPort), 10*time.Second); err != nil {
		return err
	}
	b.logf("paddock configured through ARM in %v (pid %d)", time.Since(t0).Round(time.Millisecond), pd.pid())
	b.paths = append(b.paths, &benchPath{name: "paddock", label: "Paddock", proc: pd,
		web: hostPort(paddockFE, webPort), iperf: hostPort(paddockFE, iperfPort), idle: hostPort(paddockFE, idlePort),
		udp: []string{hostPort(paddockFE, udpPort)}})

	// HAProxy.
	if have("haproxy") {
		// HAProxy refuses to start when 2×maxconn + a few exceeds the
		// descriptor hard limit (it cannot raise it).
		maxconn := b.maxIdle() + 20
		if b.hard > 0 && b.hard < 1<<30 {
			maxconn = min(maxconn, int(b.hard-40)/2)
		}
		conf, err := writeHAProxyConf(b.cfg.workdir, maxconn)
		if err != nil {
			return err
		}
		if err := checkFree("tcp", frontends(haproxyFE)...); err != nil {
			return err
		}
		hp, err := b.ps.start("haproxy", "haproxy", "-db", "-f", conf)
		if err != nil {
			return err
		}
		if err := waitListen(ctx, hp, hostPort(haproxyFE, webPort), 10*time.Second); err != nil {
			return err
		}
		b.logf("haproxy started (pid %d)", hp.pid())
		b.paths = append(b.paths, &benchPath{name: "haproxy", label: "HAProxy", proc: hp,
			web: hostPort(haproxyFE, webPort), iperf: hostPort(haproxyFE, iperfPort), idle: hostPort(haproxyFE, idlePort)})
	} else {
		b.notes = append(b.notes, "haproxy not installed: its column is empty")
	}

	if b.cfg.inproc {
		pport, err := freePort()
		if err != nil {
			return err
		}
		pa := hostPort("127.0.0.1", pport)
		if err := checkFree("tcp", frontends(inprocFE)...); err != nil {
			return err
		}
		ip, err := b.ps.start("inproc", b.self, "proxy", "-net", strconv.Itoa(b.cfg.net), "-pprof", pa, "-gomaxprocs", strconv.Itoa(b.cfg.inprocProcs),
			"-event-loops", strconv.Itoa(b.cfg.inprocLoops))
		if err != nil {
			return err
		}
		if err := waitListen(ctx, ip, hostPort(inprocFE, webPort), 10*time.Second); err != nil {
			return err
		}
		b.paths = append(b.paths, &benchPath{name: "inproc", label: "Paddock data plane only", proc: ip, pprof: pa,
			web: hostPort(inprocFE, webPort), iperf: hostPort(inprocFE, iperfPort), idle: hostPort(inprocFE, idlePort),
			udp: []string{hostPort(inprocFE, udpPort)}})
	}

	for i, v := range b.cfg.variants {
		mode, noka := strings.CutSuffix(v, "-noka")
		fe := fmt.Sprintf("127.%d.0.100", b.cfg.net+3+i)
		if err := checkFree("tcp", frontends(fe)...); err != nil {
			return err
		}
		mp, err := b.ps.start("mini-"+v, b.self, "miniproxy", "-net", strconv.Itoa(b.cfg.net), "-fe", fe, "-mode", mode,
			"-keepalive="+strconv.FormatBool(!noka))
		if err != nil {
			return err
		}
		if err := waitListen(ctx, mp, hostPort(fe, webPort), 10*time.Second); err != nil {
			return err
		}
		b.paths = append(b.paths, &benchPath{name: "mini-" + v, label: "mini " + v, proc: mp,
			web: hostPort(fe, webPort), iperf: hostPort(fe, iperfPort), idle: hostPort(fe, idlePort)})
	}
	return nil
}

func (b *bench) startIperfServer(ctx context.Context) error {
	if b.iperfSrv != nil {
		b.iperfSrv.stop(2 * time.Second)
	}
	c, err := b.ps.start("iperf3-server", "iperf3", "-s", "-B", iperfBackends[0], "-p", strconv.Itoa(iperfPort))
	if err != nil {
		return err
	}
	b.iperfSrv = c
	return waitListen(ctx, c, hostPort(iperfBackends[0], iperfPort), 10*time.Second)
}

func waitHTTP(ctx context.Context, url string, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s not ready after %v", url, limit)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// procNetKey is addr as /proc/net/{tcp,udp} print a local address.
func procNetKey(addr string) (exact, wildcard string, err error) {
	ap, err := netip.ParseAddrPort(addr)
	if err != nil || !ap.Addr().Is4() {
		return "", "", fmt.Errorf("bad IPv4 address %q", addr)
	}
	ip := ap.Addr().As4()
	exact = fmt.Sprintf("%02X%02X%02X%02X:%04X", ip[3], ip[2], ip[1], ip[0], ap.Port())
	wildcard = fmt.Sprintf("00000000:%04X", ap.Port())
	return exact, wildcard, nil
}

// bound reports whether a socket is bound to addr or to 0.0.0.0 and its
// port: for TCP a listening one, for UDP any.
func bound(proto, addr string) bool {
	exact, wild, err := procNetKey(addr)
	if err != nil {
		return false
	}
	f, err := os.Open("/proc/net/" + proto)
	if err != nil {
		return false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fl := strings.Fields(sc.Text())
		if len(fl) < 4 || (fl[1] != exact && fl[1] != wild) {
			continue
		}
		if proto == "udp" || fl[3] == "0A" {
			return true
		}
	}
	return false
}

// checkFree fails if another process already serves one of the
// benchmark's addresses: the benchmark would measure someone else's server.
func checkFree(proto string, addrs ...string) error {
	for _, a := range addrs {
		if bound(proto, a) {
			return fmt.Errorf("%s %s is already in use by another process: choose another -net", proto, a)
		}
	}
	return nil
}

// waitListen waits until a TCP socket listens on addr (IPv4), read from
// /proc/net/tcp so as not to connect to it (iperf3's server takes any
// connection for a test), and fails early if c exits.
func waitListen(ctx context.Context, c *child, addr string, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for {
		if bound("tcp", addr) {
			return nil
		}
		if c != nil && !c.alive() {
			return fmt.Errorf("%s exited before listening on %s (see %s.log)", c.name, addr, c.name)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("nothing listens on %s after %v", addr, limit)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// measure runs fn for path p and records its sample (or error) under
// workload w, with the proxy's CPU time over the run as "cpuSec". For the
// in-process proxy with -profile, the first run of each workload is
// CPU-profiled.
func (b *bench) measure(ctx context.Context, w string, p *benchPath, fn func() (sample, error)) {
	var (
		c0  time.Duration
		cs0 int64
	)
	if p.proc != nil {
		c0, _ = cpuTime(p.proc.pid())
		cs0, _ = ctxSwitches(p.proc.pid())
	}
	var wg sync.WaitGroup
	if p.pprof != "" && b.cfg.profileDir != "" && !b.profiled[w] {
		b.profiled[w] = true
		secs := max(1, int(b.cfg.duration.Seconds())-1)
		wg.Go(func() {
			if err := fetchTo(ctx, fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", p.pprof, secs),
				filepath.Join(b.cfg.profileDir, w+".cpu.pprof")); err != nil {
				b.logf("profile %s: %v", w, err)
			}
		})
	}
	s, err := fn()
	wg.Wait()
	if b.errs[w] == nil {
		b.errs[w] = map[string][]string{}
		b.res[w] = map[string][]sample{}
	}
	if err != nil {
		b.errs[w][p.name] = append(b.errs[w][p.name], err.Error())
		b.logf("%-9s %-8s error: %v", w, p.name, err)
		return
	}
	if p.proc != nil {
		if c1, err := cpuTime(p.proc.pid()); err == nil {
			s["cpuSec"] = (c1 - c0).Seconds()
		}
		if cs1, err := ctxSwitches(p.proc.pid()); err == nil {
			s["ctxSwitches"] = float64(cs1 - cs0)
		}
	}
	b.res[w][p.name] = append(b.res[w][p.name], s)
	keys := make([]string, 0, len(s))
	for k := range s {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s=%.4g", k, s[k]))
	}
	b.logf("%-9s %-8s %s (load %s)", w, p.name, strings.Join(parts, " "), loadAvg())
}

func fetchTo(ctx context.Context, url, path string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s", url, resp.Status)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// --- idle connections ---------------------------------------------------

func (b *bench) runIdle(ctx context.Context) {
	n := b.maxIdle()
	if n < b.cfg.idleConns {
		b.notes = append(b.notes, fmt.Sprintf("idle connections: RLIMIT_NOFILE hard limit %d (cannot be raised here) lets a proxy hold at most ~%d connections at 2 fds each; %d attempted instead of %d", b.hard, (b.hard-100)/2, n, b.cfg.idleConns))
	}
	stages := strconv.Itoa(n)
	if b.cfg.idleStage > 0 && b.cfg.idleStage < n {
		stages = strconv.Itoa(b.cfg.idleStage) + "," + stages
	}
	for _, p := range b.paths {
		if p.idle == "" || p.proc == nil || ctx.Err() != nil {
			continue
		}
		args := []string{b.self, "hold-client", "-target", p.idle, "-stages", stages, "-pid", strconv.Itoa(p.proc.pid())}
		var wg sync.WaitGroup
		if p.pprof != "" && b.cfg.profileDir != "" {
			// Heap and goroutine profiles while the connections are held.
			sig := filepath.Join(b.cfg.workdir, "hold-signal")
			args = append(args, "-signal-file", sig)
			wg.Go(func() { b.profileHeld(ctx, p, sig) })
		}
		out, err := b.ps.run(ctx, 5*time.Minute, "hold-client-"+p.name, args...)
		wg.Wait()
		if err != nil {
			b.logf("idle %s: %v", p.name, err)
			b.notes = append(b.notes, fmt.Sprintf("idle %s: %v", p.name, err))
			continue
		}
		var r holdResult
		if err := json.Unmarshal(lastJSON(out), &r); err != nil {
			b.logf("idle %s: %v", p.name, err)
			continue
		}
		b.idle[p.name] = r
		for _, st := range r.Stages {
			b.logf("idle      %-8s target=%d held=%d failed=%d rss=%.1fMiB (base %.1fMiB) fds=%d threads=%d",
				p.name, st.Target, st.Held, st.Failed, float64(st.Proxy.RSSKiB)/1024, float64(st.ProxyBase.RSSKiB)/1024, st.Proxy.FDs, st.Proxy.Threads)
		}
		if r.Stopped != "" {
			b.logf("idle      %-8s stopped: %s (first error: %s)", p.name, r.Stopped, r.FirstErr)
		}
		// Let the proxy finish closing before the next one is measured.
		time.Sleep(2 * time.Second)
	}
}

func (b *bench) profileHeld(ctx context.Context, p *benchPath, sig string) {
	deadline := time.Now().Add(4 * time.Minute)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		if _, err := os.Stat(sig); err == nil {
			for _, kind := range []string{"heap", "goroutine"} {
				if err := fetchTo(ctx, fmt.Sprintf("http://%s/debug/pprof/%s", p.pprof, kind),
					filepath.Join(b.cfg.profileDir, "idle."+kind+".pprof")); err != nil {
					b.logf("profile idle %s: %v", kind, err)
				}
			}
			os.Remove(sig)
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// lastJSON returns the last line of out that looks like a JSON object.
func lastJSON(out []byte) []byte {
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		if strings.HasPrefix(strings.TrimSpace(lines[i]), "{") {
			return []byte(lines[i])
		}
	}
	return out
}

// --- TCP throughput (iperf3) ---------------------------------------------

func (b *bench) runTCP(ctx context.Context) {
	for _, streams := range []int{1, 4} {
		w := fmt.Sprintf("tcp%d", streams)
		for range b.cfg.reps {
			for _, p := range b.paths {
				if ctx.Err() != nil {
					return
				}
				b.measure(ctx, w, p, func() (sample, error) { return b.iperf(ctx, p, streams) })
			}
		}
	}
}

func (b *bench) iperf(ctx context.Context, p *benchPath, streams int) (sample, error) {
	host, port, _ := net.SplitHostPort(p.iperf)
	secs := max(1, int(b.cfg.duration.Seconds()))
	out, err := b.ps.run(ctx, time.Duration(secs)*time.Second+20*time.Second, "iperf3-client", "iperf3", "-c", host, "-p", port,
		"-t", strconv.Itoa(secs), "-P", strconv.Itoa(streams), "-J", "--connect-timeout", "3000")
	var j struct {
		Error string `json:"error"`
		End   struct {
			SumReceived struct {
				Bytes float64 `json:"bytes"`
				BPS   float64 `json:"bits_per_second"`
			} `json:"sum_received"`
		} `json:"end"`
	}
	jerr := json.Unmarshal(out, &j)
	if err != nil || jerr != nil || j.Error != "" || j.End.SumReceived.BPS == 0 {
		// A failed test can leave the server stuck: start a new one.
		if rerr := b.startIperfServer(ctx); rerr != nil {
			b.logf("iperf3 server restart: %v", rerr)
		}
		return nil, fmt.Errorf("iperf3: %v %v %s", err, jerr, j.Error)
	}
	return sample{"gbps": j.End.SumReceived.BPS / 1e9, "bytes": j.End.SumReceived.Bytes}, nil
}

// --- HTTP request/response ----------------------------------------------

func (b *bench) runHTTP(ctx context.Context) {
	if have("wrk") {
		for _, closeConn := range []bool{true, false} {
			w := "wrk-keepalive"
			if closeConn {
				w = "wrk-close"
			}
			for range b.cfg.reps {
				for _, p := range b.paths {
					if ctx.Err() != nil {
						return
					}
					b.measure(ctx, w, p, func() (sample, error) { return b.wrk(ctx, p, closeConn) })
				}
			}
		}
	} else {
		b.notes = append(b.notes, "wrk not installed: saturation runs skipped")
	}
	for _, mode := range []string{"close", "keepalive"} {
		w := "rr-" + mode
		for range b.cfg.reps {
			for _, p := range b.paths {
				if ctx.Err() != nil {
					return
				}
				b.measure(ctx, w, p, func() (sample, error) { return b.rr(ctx, p, mode) })
			}
		}
	}
}

var (
	reRPS   = regexp.MustCompile(`Requests/sec:\s+([\d.]+)`)
	reReqs  = regexp.MustCompile(`(\d+) requests in`)
	rePct   = regexp.MustCompile(`(?m)^\s+(50|75|90|99)%\s+([\d.]+)(us|ms|s|m)\s*$`)
	reSock  = regexp.MustCompile(`Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)`)
	reNon2x = regexp.MustCompile(`Non-2xx or 3xx responses: (\d+)`)
)

func (b *bench) wrk(ctx context.Context, p *benchPath, closeConn bool) (sample, error) {
	secs := max(1, int(b.cfg.duration.Seconds()))
	args := []string{"wrk", "-t", strconv.Itoa(b.cfg.wrkThreads), "-c", strconv.Itoa(b.cfg.wrkConns),
		"-d", strconv.Itoa(secs) + "s", "--latency", "--timeout", "5s"}
	if closeConn {
		args = append(args, "-H", "Connection: close")
	}
	args = append(args, "http://"+p.web+"/")
	out, err := b.ps.run(ctx, time.Duration(secs)*time.Second+20*time.Second, "wrk", args...)
	if err != nil {
		return nil, err
	}
	return parseWrk(string(out))
}

func parseWrk(out string) (sample, error) {
	s := sample{}
	m := reRPS.FindStringSubmatch(out)
	if m == nil {
		return nil, fmt.Errorf("wrk: no Requests/sec in output: %q", out)
	}
	s["rps"], _ = strconv.ParseFloat(m[1], 64)
	if m := reReqs.FindStringSubmatch(out); m != nil {
		s["requests"], _ = strconv.ParseFloat(m[1], 64)
	}
	for _, m := range rePct.FindAllStringSubmatch(out, -1) {
		v, _ := strconv.ParseFloat(m[2], 64)
		switch m[3] {
		case "ms":
			v *= 1e3
		case "s":
			v *= 1e6
		case "m":
			v *= 60e6
		}
		s["p"+m[1]+"us"] = v
	}
	errs := 0.0
	if m := reSock.FindStringSubmatch(out); m != nil {
		for _, x := range m[1:] {
			v, _ := strconv.ParseFloat(x, 64)
			errs += v
		}
	}
	if m := reNon2x.FindStringSubmatch(out); m != nil {
		v, _ := strconv.ParseFloat(m[1], 64)
		errs += v
	}
	s["errors"] = errs
	return s, nil
}

func (b *bench) rr(ctx context.Context, p *benchPath, mode string) (sample, error) {
	rate := b.cfg.rateClose
	if mode == "keepalive" {
		rate = b.cfg.rateKA
	}
	out, err := b.ps.run(ctx, b.cfg.duration+30*time.Second, "rr", b.self, "rr", "-target", p.web, "-mode", mode,
		"-rate", strconv.FormatFloat(rate, 'f', -1, 64), "-duration", b.cfg.duration.String(), "-conns", strconv.Itoa(b.cfg.kaConns))
	if err != nil {
		return nil, err
	}
	var r rrResult
	if err := json.Unmarshal(lastJSON(out), &r); err != nil {
		return nil, err
	}
	if r.Done == 0 {
		return nil, fmt.Errorf("rr: no successful request (%d errors, first: %s)", r.Errors, r.FirstErr)
	}
	return sample{"requests": float64(r.Done), "achieved": r.Achieved, "errors": float64(r.Errors + r.Late),
		"p50us": r.P50, "p90us": r.P90, "p99us": r.P99, "p999us": r.P999}, nil
}

// --- UDP ----------------------------------------------------------------

func (b *bench) runUDP(ctx context.Context) {
	for range b.cfg.reps {
		for _, p := range b.paths {
			if p.udp == nil || ctx.Err() != nil {
				continue
			}
			b.measure(ctx, "udp", p, func() (sample, error) {
				out, err := b.ps.run(ctx, b.cfg.duration+20*time.Second, "udp-load", b.self, "udp-load",
					"-targets", strings.Join(p.udp, ","), "-sockets", strconv.Itoa(b.cfg.udpSockets), "-duration", b.cfg.duration.String())
				if err != nil {
					return nil, err
				}
				var r udpLoadResult
				if err := json.Unmarshal(lastJSON(out), &r); err != nil {
					return nil, err
				}
				return sample{"pps": r.PPS, "received": float64(r.Received), "lossPct": r.LossPct}, nil
			})
		}
	}
}

// writeJSON saves every sample and error into the workdir (and -json).
func (b *bench) writeJSON() error {
	out := map[string]any{
		"env": b.env, "loads": b.loads, "notes": b.notes,
		"samples": b.res, "errors": b.errs, "idle": b.idle, "remap": b.remap,
	}
	data, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(b.cfg.workdir, "results.json"), data, 0o644); err != nil {
		return err
	}
	if b.cfg.jsonPath != "" {
		return os.WriteFile(b.cfg.jsonPath, data, 0o644)
	}
	return nil
}
