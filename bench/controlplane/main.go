// Command controlplane benchmarks Paddock's control plane end to end: it
// starts a real server in-process (bolt store in a temporary directory,
// plain HTTP on a loopback port) and drives it over HTTP with a keep-alive
// client, as an Azure client would.
//
// Scenarios:
//
//	a  PUT of a Standard load balancer with 1,500 load-balancing rules
//	   (create and re-PUT), checked through its Azure-AsyncOperation.
//	b  PUT of an IP-based backend pool with 5,000 addresses, then GET of it.
//	c  10,000 NICs created by 16 clients; GET of one NIC; a full paged list.
//	d  small PUT (public IP addresses) and small GET under 32 clients.
//
// It prints a markdown table (or JSON with -json) with targets, a pass/miss
// column, ratios against a baseline and the machine it ran on. Every loop is
// bounded in count and in time, and the whole run has a deadline
// (-timeout), so the program always exits by itself.
//
//	go run ./bench/controlplane            # full run
//	go run ./bench/controlplane -quick     # smoke run, smaller sizes
//	go run ./bench/controlplane -only a -cpuprofile cpu.out
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"os"
	"runtime"
	"runtime/pprof"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/paddock-lb/paddock/internal/server"
)

const (
	apiVersion = "2024-05-01"
	rgAPI      = "2021-04-01"
	sub        = "00000000-0000-0000-0000-00000000be0c"
	rg         = "bench"
	location   = "eastus"
)

// params are the sizes of one run.
type params struct {
	Repeats      int           `json:"repeats"`
	Rules        int           `json:"rules"`
	PoolIPs      int           `json:"poolIPs"`
	PoolGets     int           `json:"poolGets"`
	NICs         int           `json:"nics"`
	SetupClients int           `json:"setupClients"`
	NICGets      int           `json:"nicGets"`
	SmallClients int           `json:"smallClients"`
	SmallReqs    int           `json:"smallRequests"`
	BaselineReqs int           `json:"baselineRequests"`
	PageSize     int           `json:"pageSize"`
	PhaseLimit   time.Duration `json:"-"` // bound on the NIC setup
	SmallLimit   time.Duration `json:"-"` // bound on each phase of scenario d
}

func fullParams() params {
	return params{Repeats: 5, Rules: 1500, PoolIPs: 5000, PoolGets: 50, NICs: 10000, SetupClients: 16, NICGets: 1000, SmallClients: 32, SmallReqs: 3000, BaselineReqs: 200, PageSize: 100, PhaseLimit: 15 * time.Minute, SmallLimit: 2 * time.Minute}
}

func quickParams() params {
	return params{Repeats: 3, Rules: 150, PoolIPs: 500, PoolGets: 20, NICs: 500, SetupClients: 16, NICGets: 200, SmallClients: 32, SmallReqs: 300, BaselineReqs: 50, PageSize: 100, PhaseLimit: time.Minute, SmallLimit: time.Minute}
}

// result is one row of the table.
type result struct {
	ID     string  `json:"id"`
	Metric string  `json:"metric"`
	Value  float64 `json:"value"`
	Unit   string  `json:"unit"`
	// Target is the bound the value must stay under ("" for none).
	Target string `json:"target,omitempty"`
	// Pass is nil when there is no target.
	Pass *bool  `json:"pass,omitempty"`
	Note string `json:"note,omitempty"`
}

type ratio struct {
	Name     string  `json:"name"`
	Value    float64 `json:"value"`
	Baseline string  `json:"baseline"`
}

type report struct {
	Machine machine  `json:"machine"`
	Params  params   `json:"params"`
	Quick   bool     `json:"quick"`
	Results []result `json:"results"`
	Ratios  []ratio  `json:"ratios"`
	Elapsed string   `json:"elapsed"`
}

type machine struct {
	NumCPU    int    `json:"nproc"`
	GoVersion string `json:"goVersion"`
	OS        string `json:"os"`
	CPU       string `json:"cpu,omitempty"`
}

func main() {
	var (
		quick      = flag.Bool("quick", false, "smaller sizes for a smoke run")
		asJSON     = flag.Bool("json", false, "print results as JSON instead of a markdown table")
		only       = flag.String("only", "abcd", "scenarios to run, e.g. \"a\" or \"bd\"")
		repeats    = flag.Int("n", 0, "repetitions of the big PUTs (0: 5, or 3 with -quick)")
		timeout    = flag.Duration("timeout", 40*time.Minute, "deadline for the whole run")
		cpuprofile = flag.String("cpuprofile", "", "write a CPU profile of the run to this file")
		memprofile = flag.String("memprofile", "", "write an allocation profile at the end to this file")
		verbose    = flag.Bool("v", false, "log progress to stderr")
	)
	flag.Parse()
	p := fullParams()
	if *quick {
		p = quickParams()
	}
	if *repeats > 0 {
		p.Repeats = *repeats
	}
	progress := func(string, ...any) {}
	if *verbose {
		progress = func(f string, args ...any) { fmt.Fprintf(os.Stderr, "# "+f+"\n", args...) }
	}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			fatal(err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			fatal(err)
		}
		defer func() { pprof.StopCPUProfile(); f.Close() }()
	}
	rep, err := run(ctx, p, *only, progress)
	if *memprofile != "" {
		if f, ferr := os.Create(*memprofile); ferr == nil {
			_ = pprof.Lookup("allocs").WriteTo(f, 0)
			f.Close()
		}
	}
	if rep != nil {
		rep.Quick = *quick
		if *asJSON {
			enc := json.NewEncoder(os.Stdout)
			enc.SetIndent("", "  ")
			_ = enc.Encode(rep)
		} else {
			printMarkdown(os.Stdout, rep)
		}
	}
	if err != nil {
		pprof.StopCPUProfile()
		fatal(err)
	}
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "controlplane:", err)
	os.Exit(1)
}

// run starts the server, runs the selected scenarios and shuts down.
func run(ctx context.Context, p params, only string, progress func(string, ...any)) (*report, error) {
	start := time.Now()
	dir, err := os.MkdirTemp("", "paddock-bench-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	srv, err := server.Start(ctx, server.Config{Listen: "127.0.0.1:0", DataDir: dir, InsecureHTTP: true, PageSize: p.PageSize, Logger: log})
	if err != nil {
		return nil, fmt.Errorf("start server: %w", err)
	}
	defer srv.Close()
	tr := &http.Transport{MaxIdleConns: 256, MaxIdleConnsPerHost: 128, IdleConnTimeout: time.Minute, DisableCompression: true}
	defer tr.CloseIdleConnections()
	c := &client{base: srv.URL, hc: &http.Client{Transport: tr, Timeout: 2 * time.Minute}}
	b := &bench{c: c, p: p, progress: progress}
	rep := &report{Machine: describeMachine(), Params: p}
	if err := b.setup(ctx); err != nil {
		return nil, fmt.Errorf("setup: %w", err)
	}
	scenarios := []struct {
		id string
		fn func(context.Context) error
	}{{"a", b.scenarioA}, {"b", b.scenarioB}, {"c", b.scenarioC}, {"d", b.scenarioD}}
	for _, s := range scenarios {
		if !strings.Contains(only, s.id) {
			continue
		}
		progress("scenario %s", s.id)
		if err := s.fn(ctx); err != nil {
			rep.Results, rep.Ratios = b.results, b.ratios()
			return rep, fmt.Errorf("scenario %s: %w", s.id, err)
		}
	}
	rep.Results, rep.Ratios = b.results, b.ratios()
	rep.Elapsed = time.Since(start).Round(time.Millisecond).String()
	return rep, nil
}

func describeMachine() machine {
	m := machine{NumCPU: runtime.NumCPU(), GoVersion: runtime.Version(), OS: runtime.GOOS + "/" + runtime.GOARCH}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPU = strings.TrimSpace(v)
				break
			}
		}
	}
	return m
}

// client is a minimal ARM client over one keep-alive transport.
type client struct {
	base string
	hc   *http.Client
}

type response struct {
	status int
	header http.Header
	body   []byte
}

// do sends one request; path is relative to the server and carries its
// query string.
func (c *client) do(ctx context.Context, method, path string, body []byte) (response, error) {
	u := path
	if !strings.HasPrefix(u, "http") {
		u = c.base + path
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return response{}, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return response{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return response{}, err
	}
	return response{status: resp.StatusCode, header: resp.Header, body: b}, nil
}

// put sends a PUT and fails unless it answers 200 or 201.
func (c *client) put(ctx context.Context, path string, body []byte) (response, error) {
	r, err := c.do(ctx, http.MethodPut, path, body)
	if err != nil {
		return r, fmt.Errorf("PUT %s: %w", path, err)
	}
	if r.status != http.StatusOK && r.status != http.StatusCreated {
		return r, fmt.Errorf("PUT %s: status %d: %s", path, r.status, truncate(r.body))
	}
	return r, nil
}

// errBusy is a 409 AnotherOperationInProgress: the server gave up on its
// own optimistic retries.
var errBusy = errors.New("409 AnotherOperationInProgress")

// putPersist sends a PUT and, as a patient client would, repeats it (up to
// 20 times) while the server answers 409 AnotherOperationInProgress; busy
// counts those answers.
func (c *client) putPersist(ctx context.Context, path string, body []byte, busy *atomic.Int64) (response, error) {
	for range 20 {
		r, err := c.put(ctx, path, body)
		if r.status == http.StatusConflict && bytes.Contains(r.body, []byte("AnotherOperationInProgress")) {
			busy.Add(1)
			continue
		}
		return r, err
	}
	return response{}, fmt.Errorf("PUT %s: %w 20 times", path, errBusy)
}

// get sends a GET and fails unless it answers 200.
func (c *client) get(ctx context.Context, path string) (response, error) {
	r, err := c.do(ctx, http.MethodGet, path, nil)
	if err != nil {
		return r, fmt.Errorf("GET %s: %w", path, err)
	}
	if r.status != http.StatusOK {
		return r, fmt.Errorf("GET %s: status %d: %s", path, r.status, truncate(r.body))
	}
	return r, nil
}

// checkOperation follows the Azure-AsyncOperation header of a write and
// fails unless the operation reports Succeeded.
func (c *client) checkOperation(ctx context.Context, r response) error {
	u := r.header.Get("Azure-AsyncOperation")
	if u == "" {
		return errors.New("no Azure-AsyncOperation header")
	}
	op, err := c.get(ctx, u)
	if err != nil {
		return err
	}
	var st struct {
		Status string `json:"status"`
	}
	if err := json.Unmarshal(op.body, &st); err != nil {
		return fmt.Errorf("decode operation: %w", err)
	}
	if st.Status != "Succeeded" {
		return fmt.Errorf("operation status %q, want Succeeded", st.Status)
	}
	return nil
}

func truncate(b []byte) string {
	if len(b) > 400 {
		return string(b[:400]) + "..."
	}
	return string(b)
}

func rgPath() string { return "/subscriptions/" + sub + "/resourceGroups/" + rg }

func resID(typ, name string) string {
	return rgPath() + "/providers/Microsoft.Network/" + typ + "/" + name
}

func withAPI(id string) string { return id + "?api-version=" + apiVersion }

// bench holds the state shared by the scenarios.
type bench struct {
	c        *client
	p        params
	progress func(string, ...any)
	results  []result
	// medians kept for the ratios (milliseconds).
	smallPut, smallGet, seqPut, seqGet, nicGet, poolGet, lbGet, lbPut, pagePerNIC float64
}

func (b *bench) add(r result) { b.results = append(b.results, r) }

// VNets: one per scenario so that address bookkeeping of one scenario does
// not weigh on another.
var vnets = []struct{ name, space, subnet, prefix string }{
	{"vnet-lb", "10.1.0.0/16", "frontends", "10.1.0.0/24"},
	{"vnet-pool", "10.2.0.0/16", "members", "10.2.0.0/16"},
	{"vnet-nic", "10.3.0.0/16", "nics", "10.3.0.0/16"},
}

func (b *bench) setup(ctx context.Context) error {
	if _, err := b.c.put(ctx, rgPath()+"?api-version="+rgAPI, []byte(`{"location":"`+location+`"}`)); err != nil {
		return err
	}
	for _, v := range vnets {
		body := fmt.Sprintf(`{"location":%q,"properties":{"addressSpace":{"addressPrefixes":[%q]},"subnets":[{"name":%q,"properties":{"addressPrefix":%q}}]}}`, location, v.space, v.subnet, v.prefix)
		if _, err := b.c.put(ctx, withAPI(resID("virtualNetworks", v.name)), []byte(body)); err != nil {
			return err
		}
	}
	return nil
}

// lbBody builds a Standard internal load balancer with n rules on frontend
// ports 1..n, backend ports 10001..10000+n, one pool and one probe.
func lbBody(name string, n int) []byte {
	lb := resID("loadBalancers", name)
	fe, pool, probe := lb+"/frontendIPConfigurations/fe", lb+"/backendAddressPools/pool", lb+"/probes/probe"
	subnet := resID("virtualNetworks", "vnet-lb") + "/subnets/frontends"
	var sb strings.Builder
	fmt.Fprintf(&sb, `{"location":%q,"sku":{"name":"Standard"},"properties":{`, location)
	fmt.Fprintf(&sb, `"frontendIPConfigurations":[{"name":"fe","properties":{"subnet":{"id":%q}}}],`, subnet)
	sb.WriteString(`"backendAddressPools":[{"name":"pool"}],`)
	sb.WriteString(`"probes":[{"name":"probe","properties":{"protocol":"Tcp","port":8080,"intervalInSeconds":5,"numberOfProbes":2}}],`)
	sb.WriteString(`"loadBalancingRules":[`)
	for i := 1; i <= n; i++ {
		if i > 1 {
			sb.WriteByte(',')
		}
		fmt.Fprintf(&sb, `{"name":"rule-%d","properties":{"frontendIPConfiguration":{"id":%q},"backendAddressPool":{"id":%q},"probe":{"id":%q},"protocol":"Tcp","frontendPort":%d,"backendPort":%d,"idleTimeoutInMinutes":4,"enableFloatingIP":false}}`, i, fe, pool, probe, i, 10000+i)
	}
	sb.WriteString(`]}}`)
	return []byte(sb.String())
}

// scenarioA: PUT of a load balancer with p.Rules rules, as a create (a new
// name each time) and as a re-PUT of an existing one.
func (b *bench) scenarioA(ctx context.Context) error {
	var create, update, toSucceeded []time.Duration
	for i := 0; i < b.p.Repeats; i++ {
		name := fmt.Sprintf("lb-rules-%d", i)
		body := lbBody(name, b.p.Rules)
		path := withAPI(resID("loadBalancers", name))
		t0 := time.Now()
		r, err := b.c.put(ctx, path, body)
		if err != nil {
			return err
		}
		create = append(create, time.Since(t0))
		if err := b.c.checkOperation(ctx, r); err != nil {
			return err
		}
		toSucceeded = append(toSucceeded, time.Since(t0))
		if i == 0 {
			if err := checkLB(r.body, b.p.Rules); err != nil {
				return err
			}
		}
	}
	name := "lb-rules-0"
	body := lbBody(name, b.p.Rules)
	for i := 0; i < b.p.Repeats; i++ {
		t0 := time.Now()
		r, err := b.c.put(ctx, withAPI(resID("loadBalancers", name)), body)
		if err != nil {
			return err
		}
		update = append(update, time.Since(t0))
		if r.status != http.StatusOK {
			return fmt.Errorf("re-PUT answered %d, want 200", r.status)
		}
		if err := b.c.checkOperation(ctx, r); err != nil {
			return err
		}
	}
	getLB := timeN(b.p.Repeats*2, func() error {
		_, err := b.c.get(ctx, withAPI(resID("loadBalancers", name)))
		return err
	})
	if getLB.err != nil {
		return getLB.err
	}
	n := fmt.Sprintf("%d rules", b.p.Rules)
	b.lbPut = ms(median(create))
	b.add(result{ID: "a1", Metric: "PUT LB create, " + n + ": median until response", Value: ms(median(create)), Unit: "ms", Note: fmt.Sprintf("n=%d, max %.0f ms", len(create), ms(slices.Max(create)))})
	b.add(result{ID: "a2", Metric: "PUT LB create, " + n + ": median until operation Succeeded", Value: ms(median(toSucceeded)), Unit: "ms", Note: "PUT + GET Azure-AsyncOperation"})
	b.add(result{ID: "a3", Metric: "PUT LB update (same body), " + n + ": median", Value: ms(median(update)), Unit: "ms", Note: fmt.Sprintf("n=%d", len(update))})
	b.lbGet = ms(median(getLB.lat))
	b.add(result{ID: "a4", Metric: "GET LB, " + n + ": median", Value: ms(median(getLB.lat)), Unit: "ms", Note: fmt.Sprintf("%d KiB body", len(body)/1024)})
	return nil
}

func checkLB(body []byte, rules int) error {
	var lb struct {
		Properties struct {
			ProvisioningState  string            `json:"provisioningState"`
			LoadBalancingRules []json.RawMessage `json:"loadBalancingRules"`
		} `json:"properties"`
	}
	if err := json.Unmarshal(body, &lb); err != nil {
		return fmt.Errorf("decode load balancer: %w", err)
	}
	if lb.Properties.ProvisioningState != "Succeeded" || len(lb.Properties.LoadBalancingRules) != rules {
		return fmt.Errorf("load balancer: state %q with %d rules, want Succeeded with %d", lb.Properties.ProvisioningState, len(lb.Properties.LoadBalancingRules), rules)
	}
	return nil
}

// poolBody lists n addresses of vnet-pool (10.2.0.0/16), skipping the
// reserved low addresses.
func poolBody(n int) []byte {
	vnet := resID("virtualNetworks", "vnet-pool")
	var sb strings.Builder
	sb.WriteString(`{"properties":{"loadBalancerBackendAddresses":[`)
	for i := 0; i < n; i++ {
		if i > 0 {
			sb.WriteByte(',')
		}
		a := 10 + i // 10.2.0.10 onwards
		fmt.Fprintf(&sb, `{"name":"addr-%d","properties":{"ipAddress":"10.2.%d.%d","virtualNetwork":{"id":%q}}}`, i, a/256, a%256, vnet)
	}
	sb.WriteString(`]}}`)
	return []byte(sb.String())
}

// scenarioB: PUT of an IP-based pool with p.PoolIPs addresses, then GETs.
func (b *bench) scenarioB(ctx context.Context) error {
	lbName := "lb-ippool"
	subnet := resID("virtualNetworks", "vnet-lb") + "/subnets/frontends"
	lb := fmt.Sprintf(`{"location":%q,"sku":{"name":"Standard"},"properties":{"frontendIPConfigurations":[{"name":"fe","properties":{"subnet":{"id":%q}}}]}}`, location, subnet)
	if _, err := b.c.put(ctx, withAPI(resID("loadBalancers", lbName)), []byte(lb)); err != nil {
		return err
	}
	poolPath := withAPI(resID("loadBalancers", lbName) + "/backendAddressPools/ippool")
	body := poolBody(b.p.PoolIPs)
	var put, until []time.Duration
	for i := 0; i < b.p.Repeats; i++ {
		t0 := time.Now()
		r, err := b.c.put(ctx, poolPath, body)
		if err != nil {
			return err
		}
		put = append(put, time.Since(t0))
		if err := b.c.checkOperation(ctx, r); err != nil {
			return err
		}
		until = append(until, time.Since(t0))
	}
	var got int
	get := timeN(b.p.PoolGets, func() error {
		r, err := b.c.get(ctx, poolPath)
		if err != nil {
			return err
		}
		var pool struct {
			Properties struct {
				LoadBalancerBackendAddresses []json.RawMessage `json:"loadBalancerBackendAddresses"`
			} `json:"properties"`
		}
		if err := json.Unmarshal(r.body, &pool); err != nil {
			return err
		}
		got = len(pool.Properties.LoadBalancerBackendAddresses)
		return nil
	})
	if get.err != nil {
		return get.err
	}
	if got != b.p.PoolIPs {
		return fmt.Errorf("pool GET lists %d addresses, want %d", got, b.p.PoolIPs)
	}
	n := fmt.Sprintf("%d IPs", b.p.PoolIPs)
	b.poolGet = ms(median(get.lat))
	b.add(result{ID: "b1", Metric: "PUT pool, " + n + ": median until response", Value: ms(median(put)), Unit: "ms", Note: fmt.Sprintf("n=%d (1st create, then re-PUT)", len(put))})
	b.add(withTarget(result{ID: "b2", Metric: "PUT pool, " + n + ": median until Succeeded", Value: ms(median(until)), Unit: "ms", Note: "PUT + GET Azure-AsyncOperation"}, 1000))
	b.add(withTarget(result{ID: "b3", Metric: "GET pool, " + n + ": median", Value: ms(median(get.lat)), Unit: "ms", Note: fmt.Sprintf("n=%d, p99 %.1f ms", len(get.lat), ms(pct(get.lat, 99)))}, 50))
	return nil
}

// scenarioC: create p.NICs NICs with p.SetupClients clients, then GET one
// NIC repeatedly and list them all through nextLink paging.
func (b *bench) scenarioC(ctx context.Context) error {
	subnet := resID("virtualNetworks", "vnet-nic") + "/subnets/nics"
	nicBody := []byte(fmt.Sprintf(`{"location":%q,"properties":{"ipConfigurations":[{"name":"ipconfig1","properties":{"subnet":{"id":%q}}}]}}`, location, subnet))
	var last, busy atomic.Int64
	setup := runConcurrent(ctx, b.p.SetupClients, b.p.NICs, b.p.PhaseLimit, func(ctx context.Context, _, seq int) error {
		_, err := b.c.putPersist(ctx, withAPI(resID("networkInterfaces", fmt.Sprintf("nic-%05d", seq))), nicBody, &busy)
		if d := last.Add(1); d%1000 == 0 {
			b.progress("  %d NICs", d)
		}
		return err
	})
	if setup.err != nil {
		return setup.err
	}
	created := len(setup.lat)
	rate := float64(created) / setup.elapsed.Seconds()
	note := fmt.Sprintf("%d NICs in %.1f s, %d clients; PUT p50 %.1f ms, p99 %.1f ms", created, setup.elapsed.Seconds(), b.p.SetupClients, ms(pct(setup.lat, 50)), ms(pct(setup.lat, 99)))
	if n := busy.Load(); n > 0 {
		note += fmt.Sprintf("; %d answers 409 AnotherOperationInProgress (repeated by the client)", n)
	}
	if created < b.p.NICs {
		note += fmt.Sprintf(" (stopped at the %s phase limit)", b.p.PhaseLimit)
	}
	b.add(result{ID: "c1", Metric: "NIC create rate (setup)", Value: rate, Unit: "NIC/s", Note: note})
	if created == 0 {
		return errors.New("no NIC created")
	}
	nic := withAPI(resID("networkInterfaces", "nic-00000"))
	get := timeN(b.p.NICGets, func() error {
		_, err := b.c.get(ctx, nic)
		return err
	})
	if get.err != nil {
		return get.err
	}
	b.nicGet = ms(median(get.lat))
	b.add(result{ID: "c2", Metric: fmt.Sprintf("GET one NIC (of %d): median", created), Value: ms(median(get.lat)), Unit: "ms", Note: fmt.Sprintf("n=%d", len(get.lat))})
	b.add(result{ID: "c3", Metric: fmt.Sprintf("GET one NIC (of %d): p99", created), Value: ms(pct(get.lat, 99)), Unit: "ms"})
	t0 := time.Now()
	next := rgPath() + "/providers/Microsoft.Network/networkInterfaces?api-version=" + apiVersion
	items, pages, dups := 0, 0, 0
	seen := make(map[string]bool, created)
	for next != "" {
		if pages > created/max(b.p.PageSize, 1)+10 {
			return errors.New("list: too many pages")
		}
		r, err := b.c.get(ctx, next)
		if err != nil {
			return err
		}
		var page struct {
			Value []struct {
				ID         string `json:"id"`
				Properties struct {
					IPConfigurations []struct {
						Properties struct {
							PrivateIPAddress string `json:"privateIPAddress"`
						} `json:"properties"`
					} `json:"ipConfigurations"`
				} `json:"properties"`
			} `json:"value"`
			NextLink string `json:"nextLink"`
		}
		if err := json.Unmarshal(r.body, &page); err != nil {
			return fmt.Errorf("decode list page: %w", err)
		}
		for _, n := range page.Value {
			for _, ic := range n.Properties.IPConfigurations {
				if a := ic.Properties.PrivateIPAddress; seen[a] {
					dups++
				} else {
					seen[a] = true
				}
			}
		}
		items += len(page.Value)
		pages++
		next = page.NextLink
	}
	listTime := time.Since(t0)
	if items != created {
		return fmt.Errorf("list returned %d NICs, want %d", items, created)
	}
	b.pagePerNIC = ms(listTime) / float64(pages)
	b.add(result{ID: "c4", Metric: fmt.Sprintf("List all %d NICs via nextLink", created), Value: ms(listTime), Unit: "ms", Note: fmt.Sprintf("%d pages of %d, %.1f ms/page", pages, b.p.PageSize, ms(listTime)/float64(pages))})
	unique := dups == 0
	b.add(result{ID: "c5", Metric: "NICs whose private IP another NIC also holds", Value: float64(dups), Target: "= 0", Pass: &unique, Note: "correctness check on the listing"})
	return nil
}

// scenarioD: small PUTs (public IPs, each client its own names) and small
// GETs under p.SmallClients clients.
func (b *bench) scenarioD(ctx context.Context) error {
	body := []byte(fmt.Sprintf(`{"location":%q,"sku":{"name":"Standard"},"properties":{"publicIPAllocationMethod":"Static"}}`, location))
	pipName := func(worker, seq int) string { return fmt.Sprintf("pip-c%02d-%05d", worker, seq) }
	var mu sync.Mutex
	var busy atomic.Int64
	made := map[int][]string{}
	put := runConcurrent(ctx, b.p.SmallClients, b.p.SmallReqs, b.p.SmallLimit, func(ctx context.Context, worker, seq int) error {
		name := pipName(worker, seq)
		r, err := b.c.putPersist(ctx, withAPI(resID("publicIPAddresses", name)), body, &busy)
		if err != nil {
			return err
		}
		if r.status != http.StatusCreated {
			return fmt.Errorf("PUT %s answered %d, want 201", name, r.status)
		}
		mu.Lock()
		made[worker] = append(made[worker], name)
		mu.Unlock()
		return nil
	})
	if put.err != nil {
		return put.err
	}
	var all []string
	for _, names := range made {
		all = append(all, names...)
	}
	if len(all) == 0 {
		return errors.New("no public IP created")
	}
	get := runConcurrent(ctx, b.p.SmallClients, b.p.SmallReqs, b.p.SmallLimit, func(ctx context.Context, worker, seq int) error {
		names := made[worker] // each client reads its own
		if len(names) == 0 {
			names = all
		}
		_, err := b.c.get(ctx, withAPI(resID("publicIPAddresses", names[seq%len(names)])))
		return err
	})
	if get.err != nil {
		return get.err
	}
	// Baseline: the same requests from one client on an idle server.
	var seqPut, seqGet []time.Duration
	for i := 0; i < b.p.BaselineReqs; i++ {
		name := fmt.Sprintf("pip-seq-%05d", i)
		t0 := time.Now()
		if _, err := b.c.put(ctx, withAPI(resID("publicIPAddresses", name)), body); err != nil {
			return err
		}
		seqPut = append(seqPut, time.Since(t0))
		t0 = time.Now()
		if _, err := b.c.get(ctx, withAPI(resID("publicIPAddresses", name))); err != nil {
			return err
		}
		seqGet = append(seqGet, time.Since(t0))
	}
	b.smallPut, b.smallGet = ms(pct(put.lat, 50)), ms(pct(get.lat, 50))
	b.seqPut, b.seqGet = ms(median(seqPut)), ms(median(seqGet))
	cl := fmt.Sprintf("%d clients", b.p.SmallClients)
	b.add(result{ID: "d0", Metric: "small PUT / GET (public IP), 1 client: median", Value: ms(median(seqPut)), Unit: "ms", Note: fmt.Sprintf("GET %.2f ms; n=%d each, after the %d concurrent PUTs (baseline)", ms(median(seqGet)), len(seqPut), len(all))})
	b.add(result{ID: "d1", Metric: "small PUT (public IP), " + cl + ": p50", Value: ms(pct(put.lat, 50)), Unit: "ms", Note: fmt.Sprintf("n=%d, %.0f req/s", len(put.lat), float64(len(put.lat))/put.elapsed.Seconds())})
	b.add(withTarget(result{ID: "d2", Metric: "small PUT (public IP), " + cl + ": p99", Value: ms(pct(put.lat, 99)), Unit: "ms", Note: "latency includes the client's repeats after 409"}, 20))
	rejected := result{ID: "d5", Metric: "small PUT answered 409 AnotherOperationInProgress, " + cl, Value: float64(busy.Load()), Unit: "", Target: "= 0", Note: fmt.Sprintf("of %d PUTs", len(put.lat))}
	ok := busy.Load() == 0
	rejected.Pass = &ok
	b.add(result{ID: "d3", Metric: "small GET (public IP), " + cl + ": p50", Value: ms(pct(get.lat, 50)), Unit: "ms", Note: fmt.Sprintf("n=%d, %.0f req/s", len(get.lat), float64(len(get.lat))/get.elapsed.Seconds())})
	b.add(result{ID: "d4", Metric: "small GET (public IP), " + cl + ": p99", Value: ms(pct(get.lat, 99)), Unit: "ms"})
	b.add(rejected)
	return nil
}

// ratios relates measurements to a baseline of the same run.
func (b *bench) ratios() []ratio {
	var out []ratio
	add := func(name string, num, den float64, base string) {
		if num > 0 && den > 0 {
			out = append(out, ratio{Name: name, Value: num / den, Baseline: base})
		}
	}
	add("small PUT p50 / small GET p50, 32 clients", b.smallPut, b.smallGet, "small GET p50, 32 clients (d3)")
	add("small PUT p50, 32 clients / 1 client", b.smallPut, b.seqPut, "small PUT, 1 client (d0)")
	add("small GET p50, 32 clients / 1 client", b.smallGet, b.seqGet, "small GET, 1 client (d0)")
	add("PUT LB with all rules / small PUT", b.lbPut, b.seqPut, "small PUT, 1 client (d0)")
	add("GET LB with all rules / small GET", b.lbGet, b.seqGet, "small GET, 1 client (d0)")
	add("GET pool with all IPs / small GET", b.poolGet, b.seqGet, "small GET, 1 client (d0)")
	add("GET one NIC among all / small GET", b.nicGet, b.seqGet, "small GET, 1 client (d0)")
	add("one list page of NICs / GET one NIC", b.pagePerNIC, b.nicGet, "GET one NIC median (c2)")
	return out
}

func withTarget(r result, maxMillis float64) result {
	r.Target = fmt.Sprintf("< %s ms", trimFloat(maxMillis))
	pass := r.Value < maxMillis
	r.Pass = &pass
	return r
}

// timed is the outcome of a timed loop.
type timed struct {
	lat     []time.Duration
	elapsed time.Duration
	err     error
}

// timeN runs fn n times in sequence and records each latency.
func timeN(n int, fn func() error) timed {
	var t timed
	t0 := time.Now()
	for i := 0; i < n; i++ {
		s := time.Now()
		if err := fn(); err != nil {
			t.err = err
			break
		}
		t.lat = append(t.lat, time.Since(s))
	}
	t.elapsed = time.Since(t0)
	return t
}

// runConcurrent runs fn total times spread over clients goroutines, or
// until limit has passed (calls under way then finish; no new one starts);
// seq numbers the calls 0..total-1 per run. The first error stops every
// worker.
func runConcurrent(ctx context.Context, clients, total int, limit time.Duration, fn func(ctx context.Context, worker, seq int) error) timed {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		next     atomic.Int64
		mu       sync.Mutex
		out      timed
		wg       sync.WaitGroup
		deadline = time.Now().Add(limit)
	)
	t0 := time.Now()
	for w := 0; w < clients; w++ {
		wg.Go(func() {
			var lat []time.Duration
			var err error
			for time.Now().Before(deadline) {
				seq := int(next.Add(1) - 1)
				if seq >= total {
					break
				}
				s := time.Now()
				if err = fn(ctx, w, seq); err != nil {
					break
				}
				lat = append(lat, time.Since(s))
			}
			mu.Lock()
			out.lat = append(out.lat, lat...)
			if err != nil && out.err == nil {
				out.err = err
				cancel()
			}
			mu.Unlock()
		})
	}
	wg.Wait()
	out.elapsed = time.Since(t0)
	return out
}

func median(d []time.Duration) time.Duration { return pct(d, 50) }

// pct is the nearest-rank percentile.
func pct(d []time.Duration, p float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	i := int(math.Ceil(p/100*float64(len(s)))) - 1
	return s[min(max(i, 0), len(s)-1)]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func trimFloat(f float64) string {
	return strings.TrimSuffix(strings.TrimRight(fmt.Sprintf("%.3f", f), "0"), ".")
}

func formatValue(v float64, unit string) string {
	switch {
	case v >= 100 || v == math.Trunc(v) && unit == "":
		return strings.TrimSpace(fmt.Sprintf("%.0f %s", v, unit))
	case v >= 10:
		return strings.TrimSpace(fmt.Sprintf("%.1f %s", v, unit))
	}
	return strings.TrimSpace(fmt.Sprintf("%.2f %s", v, unit))
}

func printMarkdown(w io.Writer, r *report) {
	mode := "full"
	if r.Quick {
		mode = "quick"
	}
	fmt.Fprintf(w, "Paddock control-plane benchmark (%s run, bolt store, HTTP over loopback)\n\n", mode)
	fmt.Fprintf(w, "Machine: nproc=%d, %s, %s", r.Machine.NumCPU, r.Machine.GoVersion, r.Machine.OS)
	if r.Machine.CPU != "" {
		fmt.Fprintf(w, ", %s", r.Machine.CPU)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| id | metric | value | target | pass/miss | notes |")
	fmt.Fprintln(w, "|---|---|---:|---|---|---|")
	for _, x := range r.Results {
		status, target := "—", "—"
		if x.Pass != nil {
			target, status = x.Target, "miss"
			if *x.Pass {
				status = "pass"
			}
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s |\n", x.ID, x.Metric, formatValue(x.Value, x.Unit), target, status, x.Note)
	}
	if len(r.Ratios) > 0 {
		fmt.Fprintln(w)
		fmt.Fprintln(w, "| ratio | value | baseline |")
		fmt.Fprintln(w, "|---|---:|---|")
		for _, x := range r.Ratios {
			fmt.Fprintf(w, "| %s | %s× | %s |\n", x.Name, formatValue(x.Value, ""), x.Baseline)
		}
	}
	if r.Elapsed != "" {
		fmt.Fprintf(w, "\nTotal run time: %s\n", r.Elapsed)
	}
}
