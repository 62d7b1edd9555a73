package crashtest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

const (
	apiVersion = "2024-05-01"
	rgAPI      = "2021-04-01"
	sub        = "00000000-0000-0000-0000-0000000c4a54"
	rg         = "crash"
	location   = "westeurope"

	// The burst: workers goroutines write until killAfterAcks writes are
	// acknowledged or killAfter has passed, whichever comes first, and
	// never more than maxOps writes in all.
	workers       = 6
	killAfterAcks = 150
	killAfter     = 2 * time.Second
	maxOps        = 3000
)

// TestKillDuringWriteBurst kills paddock with SIGKILL in the middle of a
// burst of concurrent writes and checks, after a restart on the same data
// directory, that the store kept exactly what it acknowledged and that
// every back-reference is consistent.
func TestKillDuringWriteBurst(t *testing.T) {
	if testing.Short() {
		t.Skip("skipped in -short mode: the crash test builds and runs the paddock binary")
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("skipped: the go command is not on PATH, and the crash test needs it to build ./cmd/paddock")
	}
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	bin := buildPaddock(ctx, t, goBin)
	dataDir := t.TempDir()

	first := startPaddock(ctx, t, bin, dataDir)
	c := newClient(t, first.url)
	j := &journal{}
	setup(ctx, t, c, j)
	runBurst(ctx, c, first, j)
	acked, refused, unknown := j.counts()
	t.Logf("burst: %d writes acknowledged, %d refused, %d unknown (in flight at the kill)", acked, refused, unknown)
	if acked == 0 {
		t.Fatalf("no write was acknowledged before the kill; server output:\n%s", first.out.String())
	}

	second := startPaddock(ctx, t, bin, dataDir)
	c = newClient(t, second.url)
	// The restarted server must accept writes that allocate from the
	// recovered state.
	nic := resID("networkInterfaces", "nic-after-restart")
	r := c.do(ctx, http.MethodPut, nic, nicBody(""))
	if r.err != nil || r.status/100 != 2 {
		t.Fatalf("PUT %s after restart: status %d, err %v: %s", nic, r.status, r.err, r.body)
	}
	checkJournal(ctx, t, c, j)
	checkConsistency(ctx, t, c)
	if t.Failed() {
		t.Logf("server output before the kill:\n%s\nafter the restart:\n%s", first.out.String(), second.out.String())
	}
}

// buildPaddock builds cmd/paddock into a temporary directory.
func buildPaddock(ctx context.Context, t *testing.T, goBin string) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "paddock")
	cmd := exec.CommandContext(ctx, goBin, "build", "-o", bin, "github.com/paddock-lb/paddock/cmd/paddock")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/paddock: %v\n%s", err, out)
	}
	return bin
}

// proc is a running paddock process.
type proc struct {
	cmd  *exec.Cmd
	url  string
	out  *syncBuffer
	done chan struct{} // closed once the process has been waited for
}

// startPaddock starts paddock on a free loopback port and waits until
// /healthz answers. The process is killed at the end of the test.
func startPaddock(ctx context.Context, t *testing.T, bin, dataDir string) *proc {
	t.Helper()
	addr := freeAddr(t)
	p := &proc{url: "http://" + addr, out: &syncBuffer{}, done: make(chan struct{})}
	p.cmd = exec.Command(bin, "serve", "--insecure-http", "--listen", addr, "--data-dir", dataDir, "--log-level", "warn")
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start paddock: %v", err)
	}
	go func() {
		_ = p.cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(p.kill)
	hc := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(30 * time.Second)
	for {
		select {
		case <-p.done:
			t.Fatalf("paddock exited before it was healthy:\n%s", p.out.String())
		case <-ctx.Done():
			t.Fatalf("waiting for paddock: %v", ctx.Err())
		default:
		}
		resp, err := hc.Get(p.url + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				hc.CloseIdleConnections()
				return p
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("paddock not healthy after 30 s (last error %v):\n%s", err, p.out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// kill sends SIGKILL and waits for the process to be reaped.
func (p *proc) kill() {
	select {
	case <-p.done:
		return
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("find a free port: %v", err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// client speaks ARM over HTTP to one server.
type client struct {
	base string
	hc   *http.Client
}

func newClient(t *testing.T, base string) *client {
	tr := &http.Transport{MaxIdleConnsPerHost: 32}
	t.Cleanup(tr.CloseIdleConnections)
	return &client{base: base, hc: &http.Client{Transport: tr, Timeout: 30 * time.Second}}
}

type reply struct {
	status int
	body   []byte
	// err is a transport error: the request's fate is unknown.
	err error
}

// do sends a request to id (or to a full URL) with the api-version added.
func (c *client) do(ctx context.Context, method, id string, body []byte) reply {
	u := id
	if !strings.HasPrefix(u, "http") {
		api := apiVersion
		if !strings.Contains(id, "/providers/") {
			api = rgAPI
		}
		u = c.base + id + "?api-version=" + api
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return reply{err: err}
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return reply{err: err}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return reply{err: err}
	}
	return reply{status: resp.StatusCode, body: b}
}

// getJSON GETs id into v and reports whether it exists (200 vs 404).
func (c *client) getJSON(ctx context.Context, t *testing.T, id string, v any) bool {
	t.Helper()
	r := c.do(ctx, http.MethodGet, id, nil)
	switch {
	case r.err != nil:
		t.Fatalf("GET %s: %v", id, r.err)
	case r.status == http.StatusNotFound:
		return false
	case r.status != http.StatusOK:
		t.Fatalf("GET %s: status %d: %s", id, r.status, r.body)
	}
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("GET %s: decode: %v", id, err)
	}
	return true
}

// listAll follows nextLink through every page of a list.
func listAll[T any](ctx context.Context, t *testing.T, c *client, typ string) []T {
	t.Helper()
	var out []T
	next := c.base + rgPath() + "/providers/Microsoft.Network/" + typ + "?api-version=" + apiVersion
	for pages := 0; next != ""; pages++ {
		if pages > 1000 {
			t.Fatalf("list %s: more than 1000 pages", typ)
		}
		var page struct {
			Value    []T    `json:"value"`
			NextLink string `json:"nextLink"`
		}
		if !c.getJSON(ctx, t, next, &page) {
			t.Fatalf("list %s: 404", typ)
		}
		out = append(out, page.Value...)
		next = page.NextLink
	}
	return out
}

func rgPath() string { return "/subscriptions/" + sub + "/resourceGroups/" + rg }

func resID(typ, name string) string {
	return rgPath() + "/providers/Microsoft.Network/" + typ + "/" + name
}

var (
	vnetID   = resID("virtualNetworks", "vnet")
	subnetID = vnetID + "/subnets/default"
	lbID     = resID("loadBalancers", "lb")
	poolID   = lbID + "/backendAddressPools/pool"
	subnet   = netip.MustParsePrefix("10.20.0.0/16")
)

// setup creates the group, the VNet and the load balancer; the load
// balancer's creation goes into the journal, since pool writes change its
// etag.
func setup(ctx context.Context, t *testing.T, c *client, j *journal) {
	t.Helper()
	puts := []struct {
		id   string
		body string
	}{
		{rgPath(), fmt.Sprintf(`{"location":%q}`, location)},
		{vnetID, fmt.Sprintf(`{"location":%q,"properties":{"addressSpace":{"addressPrefixes":["10.20.0.0/16"]},"subnets":[{"name":"default","properties":{"addressPrefix":%q}}]}}`, location, subnet)},
		{lbID, fmt.Sprintf(`{"location":%q,"sku":{"name":"Standard"},"properties":{"frontendIPConfigurations":[{"name":"fe","properties":{"subnet":{"id":%q}}}],"backendAddressPools":[{"name":"pool"}]}}`, location, subnetID)},
	}
	for _, p := range puts {
		w := &write{id: p.id, etagOf: p.id}
		j.add(w)
		r := c.do(ctx, http.MethodPut, p.id, []byte(p.body))
		if r.err != nil || r.status/100 != 2 {
			t.Fatalf("setup PUT %s: status %d, err %v: %s", p.id, r.status, r.err, r.body)
		}
		if p.id == lbID {
			w.done, w.outcome, w.status, w.etag = time.Now(), acked, r.status, etagOf(r.body)
		} else {
			j.writes = j.writes[:len(j.writes)-1] // not a network resource
		}
	}
}

func etagOf(body []byte) string {
	var e struct {
		Etag string `json:"etag"`
	}
	_ = json.Unmarshal(body, &e)
	return e.Etag
}

func nicBody(pip string) []byte {
	pipRef := ""
	if pip != "" {
		pipRef = fmt.Sprintf(`,"publicIPAddress":{"id":%q}`, pip)
	}
	return []byte(fmt.Sprintf(`{"location":%q,"properties":{"ipConfigurations":[{"name":"ipconfig1","properties":{"subnet":{"id":%q},"loadBalancerBackendAddressPools":[{"id":%q}]%s}}]}}`, location, subnetID, poolID, pipRef))
}

var pipBody = []byte(fmt.Sprintf(`{"location":%q,"sku":{"name":"Standard"},"properties":{"publicIPAllocationMethod":"Static"}}`, location))

// outcome is what the client learned about a write.
type outcome int

const (
	pending outcome = iota // sent, no answer yet
	acked                  // answered 2xx: must be durable
	refused                // answered otherwise: must have changed nothing
	unknown                // no answer (connection lost at the kill)
)

// write is one journaled write.
type write struct {
	del bool
	id  string
	// etagOf is the resource whose etag the write sets: the load balancer
	// for pool PUTs (a child's etag is its parent's).
	etagOf     string
	pip        string // public IP a NIC create attaches
	sent, done time.Time
	outcome    outcome
	status     int
	etag       string
}

// journal records every write of the burst in the order sent.
type journal struct {
	mu     sync.Mutex
	writes []*write
}

func (j *journal) add(w *write) {
	j.mu.Lock()
	defer j.mu.Unlock()
	w.sent = time.Now()
	j.writes = append(j.writes, w)
}

func (j *journal) counts() (acked_, refused_, unknown_ int) {
	j.mu.Lock()
	defer j.mu.Unlock()
	for _, w := range j.writes {
		switch w.outcome {
		case acked:
			acked_++
		case refused:
			refused_++
		default:
			unknown_++
		}
	}
	return
}

// runBurst runs the writers, journaling into j, and SIGKILLs p after
// killAfterAcks acknowledged writes or killAfter, whichever comes first. It
// returns once every writer has stopped.
func runBurst(ctx context.Context, c *client, p *proc, j *journal) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var ackCount, ops atomic.Int64
	killNow := make(chan struct{})
	var once sync.Once
	trigger := func() { once.Do(func() { close(killNow) }) }
	var wg sync.WaitGroup
	wg.Go(func() {
		tm := time.NewTimer(killAfter)
		defer tm.Stop()
		select {
		case <-tm.C:
		case <-killNow:
		case <-ctx.Done():
		}
		p.kill()
		cancel()
	})
	send := func(w *write, method string, body []byte) outcome {
		j.add(w)
		r := c.do(ctx, method, w.id, body)
		j.mu.Lock()
		defer j.mu.Unlock()
		w.done, w.status = time.Now(), r.status
		switch {
		case r.err != nil:
			w.outcome = unknown
		case r.status/100 == 2:
			w.outcome, w.etag = acked, etagOf(r.body)
			if ackCount.Add(1) >= killAfterAcks {
				trigger()
			}
		default:
			w.outcome = refused
		}
		return w.outcome
	}
	for wk := range workers {
		wg.Go(func() {
			var nics, freePIPs []string
			for i := 0; ctx.Err() == nil && ops.Add(1) <= maxOps; i++ {
				var o outcome
				switch i % 6 {
				case 0, 3: // NIC joining the pool, dynamic address
					id := resID("networkInterfaces", fmt.Sprintf("nic-%d-%d", wk, i))
					if o = send(&write{id: id, etagOf: id}, http.MethodPut, nicBody("")); o == acked {
						nics = append(nics, id)
					}
				case 1: // public IP
					id := resID("publicIPAddresses", fmt.Sprintf("pip-%d-%d", wk, i))
					if o = send(&write{id: id, etagOf: id}, http.MethodPut, pipBody); o == acked {
						freePIPs = append(freePIPs, id)
					}
				case 2: // NIC with a public IP of this worker
					id := resID("networkInterfaces", fmt.Sprintf("nic-%d-%d", wk, i))
					w := &write{id: id, etagOf: id}
					if len(freePIPs) > 0 {
						w.pip = freePIPs[0]
					}
					if o = send(w, http.MethodPut, nicBody(w.pip)); o == acked {
						nics = append(nics, id)
						if w.pip != "" {
							freePIPs = freePIPs[1:]
						}
					}
				case 4: // pool PUT: the shared pool, or this worker's own
					name := "pool"
					if i%12 == 10 {
						name = fmt.Sprintf("pool-%d", wk)
					}
					o = send(&write{id: lbID + "/backendAddressPools/" + name, etagOf: lbID}, http.MethodPut, []byte(`{"properties":{}}`))
				case 5: // delete the oldest NIC of this worker
					if len(nics) == 0 {
						continue
					}
					id := nics[0]
					if o = send(&write{id: id, del: true}, http.MethodDelete, nil); o == acked {
						nics = nics[1:]
					}
				}
				if o == unknown {
					return // the server is gone; this write stays the worker's last
				}
			}
		})
	}
	wg.Wait()
}

// checkJournal checks each written resource against the journal: present
// with an acknowledged etag (or a later one) if a create was acknowledged,
// absent if a delete was, absent if every write to it was refused.
func checkJournal(ctx context.Context, t *testing.T, c *client, j *journal) {
	t.Helper()
	byID := map[string][]*write{}
	byEtag := map[string][]*write{}
	var order []string
	// A public IP's document also changes when a NIC takes or releases it.
	attached := map[string]bool{}
	for _, w := range j.writes {
		k := strings.ToLower(w.id)
		if _, ok := byID[k]; !ok {
			order = append(order, w.id)
		}
		byID[k] = append(byID[k], w)
		if !w.del {
			byEtag[strings.ToLower(w.etagOf)] = append(byEtag[strings.ToLower(w.etagOf)], w)
		}
		if w.pip != "" && w.outcome != refused {
			attached[strings.ToLower(w.pip)] = true
		}
	}
	for _, id := range order {
		var doc struct {
			Etag string `json:"etag"`
		}
		present := c.getJSON(ctx, t, id, &doc)
		var live []*write // writes that may have taken effect
		for _, w := range byID[strings.ToLower(id)] {
			if w.outcome != refused {
				live = append(live, w)
			}
		}
		mustExist, mayExist := false, false
		for _, w := range live {
			switch {
			case w.outcome == acked:
				mustExist, mayExist = !w.del, !w.del
			case w.del: // unknown delete
				mustExist = false
			default: // unknown create or update
				mayExist = true
			}
		}
		switch {
		case mustExist && !present:
			t.Errorf("%s: acknowledged create is missing after the restart (%s)", id, describe(byID[strings.ToLower(id)]))
		case !mayExist && present:
			t.Errorf("%s: exists after the restart, but %s", id, describe(byID[strings.ToLower(id)]))
		case present && !attached[strings.ToLower(id)]:
			etagOf := id
			for _, w := range byID[strings.ToLower(id)] {
				if w.etagOf != "" {
					etagOf = w.etagOf
					break
				}
			}
			if err := checkEtag(doc.Etag, byEtag[strings.ToLower(etagOf)]); err != nil {
				t.Errorf("%s: %v", id, err)
			}
		}
	}
}

// checkEtag checks that etag came from an acknowledged write that no other
// acknowledged write certainly followed, or else from a write whose answer
// was lost.
func checkEtag(etag string, ws []*write) error {
	inFlight := false
	for _, w := range ws {
		if w.outcome == unknown || w.outcome == pending {
			inFlight = true
		}
	}
	for _, w := range ws {
		if w.outcome != acked || w.etag != etag {
			continue
		}
		for _, v := range ws {
			if v.outcome == acked && v.sent.After(w.done) {
				return fmt.Errorf("etag %s is from the write acknowledged at %s, but a write sent after that was acknowledged too (etag %s): an acknowledged write was lost", etag, w.done.Format(time.StampMicro), v.etag)
			}
		}
		return nil
	}
	if inFlight {
		return nil // a write whose answer was lost took effect
	}
	return fmt.Errorf("etag %s matches no acknowledged write and no write was in flight", etag)
}

func describe(ws []*write) string {
	var parts []string
	for _, w := range ws {
		op := "PUT"
		if w.del {
			op = "DELETE"
		}
		state := map[outcome]string{pending: "pending", acked: "acknowledged", refused: "refused", unknown: "unknown"}[w.outcome]
		parts = append(parts, fmt.Sprintf("%s %s (%d)", op, state, w.status))
	}
	return strings.Join(parts, ", ")
}

type ref struct {
	ID string `json:"id"`
}

type nicDoc struct {
	ID         string `json:"id"`
	Properties struct {
		IPConfigurations []struct {
			ID         string `json:"id"`
			Properties struct {
				PrivateIPAddress                string `json:"privateIPAddress"`
				Subnet                          *ref   `json:"subnet"`
				PublicIPAddress                 *ref   `json:"publicIPAddress"`
				LoadBalancerBackendAddressPools []ref  `json:"loadBalancerBackendAddressPools"`
			} `json:"properties"`
		} `json:"ipConfigurations"`
	} `json:"properties"`
}

type lbDoc struct {
	ID         string `json:"id"`
	Etag       string `json:"etag"`
	Properties struct {
		FrontendIPConfigurations []struct {
			ID         string `json:"id"`
			Properties struct {
				PrivateIPAddress string `json:"privateIPAddress"`
				Subnet           *ref   `json:"subnet"`
				PublicIPAddress  *ref   `json:"publicIPAddress"`
			} `json:"properties"`
		} `json:"frontendIPConfigurations"`
		BackendAddressPools []struct {
			ID         string `json:"id"`
			Etag       string `json:"etag"`
			Properties struct {
				BackendIPConfigurations []ref `json:"backendIPConfigurations"`
			} `json:"properties"`
		} `json:"backendAddressPools"`
	} `json:"properties"`
}

type pipDoc struct {
	ID         string `json:"id"`
	Properties struct {
		IPAddress       string `json:"ipAddress"`
		IPConfiguration *ref   `json:"ipConfiguration"`
	} `json:"properties"`
}

// checkConsistency checks every back-reference against the references it
// mirrors, from listings of the whole resource group.
func checkConsistency(ctx context.Context, t *testing.T, c *client) {
	t.Helper()
	nics := listAll[nicDoc](ctx, t, c, "networkInterfaces")
	pips := listAll[pipDoc](ctx, t, c, "publicIPAddresses")
	var lb lbDoc
	if !c.getJSON(ctx, t, lbID, &lb) {
		t.Fatalf("load balancer %s is gone", lbID)
	}
	var sn struct {
		Properties struct {
			IPConfigurations []ref `json:"ipConfigurations"`
		} `json:"properties"`
	}
	if !c.getJSON(ctx, t, subnetID, &sn) {
		t.Fatalf("subnet %s is gone", subnetID)
	}
	t.Logf("after restart: %d NICs, %d public IPs, %d pools", len(nics), len(pips), len(lb.Properties.BackendAddressPools))

	poolMembers := map[string]map[string]bool{} // pool -> ipconfigs that reference it
	subnetUsers := map[string]bool{}
	ipconfigs := map[string]*ref{} // ipconfig -> its public IP (nil: none)
	addrHolder := map[netip.Addr]string{}
	claim := func(holder, addr string) {
		a, err := netip.ParseAddr(addr)
		switch {
		case err != nil:
			t.Errorf("%s: private address %q does not parse", holder, addr)
		case !subnet.Contains(a):
			t.Errorf("%s: private address %s is outside subnet %s", holder, a, subnet)
		case addrHolder[a] != "":
			t.Errorf("private address %s is held by both %s and %s", a, addrHolder[a], holder)
		default:
			addrHolder[a] = holder
		}
	}
	for _, n := range nics {
		for _, ic := range n.Properties.IPConfigurations {
			k := strings.ToLower(ic.ID)
			ipconfigs[k] = ic.Properties.PublicIPAddress
			if s := ic.Properties.Subnet; s != nil && strings.EqualFold(s.ID, subnetID) {
				subnetUsers[k] = true
				claim(ic.ID, ic.Properties.PrivateIPAddress)
			}
			for _, p := range ic.Properties.LoadBalancerBackendAddressPools {
				pk := strings.ToLower(p.ID)
				if poolMembers[pk] == nil {
					poolMembers[pk] = map[string]bool{}
				}
				poolMembers[pk][k] = true
			}
		}
	}
	for _, fe := range lb.Properties.FrontendIPConfigurations {
		if s := fe.Properties.Subnet; s != nil && strings.EqualFold(s.ID, subnetID) {
			subnetUsers[strings.ToLower(fe.ID)] = true
			claim(fe.ID, fe.Properties.PrivateIPAddress)
		}
	}
	pools := map[string]bool{}
	for _, p := range lb.Properties.BackendAddressPools {
		pk := strings.ToLower(p.ID)
		pools[pk] = true
		if p.Etag != lb.Etag {
			t.Errorf("pool %s: etag %s differs from its load balancer's %s", p.ID, p.Etag, lb.Etag)
		}
		if diff := setDiff(poolMembers[pk], idSet(p.Properties.BackendIPConfigurations)); diff != "" {
			t.Errorf("pool %s: backendIPConfigurations disagree with the NICs that reference the pool: %s", p.ID, diff)
		}
	}
	for pk := range poolMembers {
		if !pools[pk] {
			t.Errorf("NICs reference pool %s, which does not exist", pk)
		}
	}
	if diff := setDiff(subnetUsers, idSet(sn.Properties.IPConfigurations)); diff != "" {
		t.Errorf("subnet %s: ipConfigurations disagree with the NICs and frontends in it: %s", subnetID, diff)
	}
	pipHolder := map[string]string{}
	for _, p := range pips {
		pk := strings.ToLower(p.ID)
		h := p.Properties.IPConfiguration
		if h == nil {
			continue
		}
		pipHolder[pk] = strings.ToLower(h.ID)
		pr, ok := ipconfigs[strings.ToLower(h.ID)]
		switch {
		case !ok:
			t.Errorf("public IP %s: ipConfiguration %s does not exist", p.ID, h.ID)
		case pr == nil || !strings.EqualFold(pr.ID, p.ID):
			t.Errorf("public IP %s: ipConfiguration %s does not reference it", p.ID, h.ID)
		}
	}
	for ic, pr := range ipconfigs {
		if pr != nil && pipHolder[strings.ToLower(pr.ID)] != ic {
			t.Errorf("%s references public IP %s, whose ipConfiguration is %q", ic, pr.ID, pipHolder[strings.ToLower(pr.ID)])
		}
	}
}

func idSet(refs []ref) map[string]bool {
	m := make(map[string]bool, len(refs))
	for _, r := range refs {
		m[strings.ToLower(r.ID)] = true
	}
	return m
}

// setDiff describes how got differs from want ("" when equal).
func setDiff(want, got map[string]bool) string {
	var missing, extra []string
	for k := range want {
		if !got[k] {
			missing = append(missing, k)
		}
	}
	for k := range got {
		if !want[k] {
			extra = append(extra, k)
		}
	}
	if len(missing) == 0 && len(extra) == 0 {
		return ""
	}
	sort.Strings(missing)
	sort.Strings(extra)
	return fmt.Sprintf("missing %v, unexpected %v", missing, extra)
}
