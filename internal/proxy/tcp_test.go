package proxy

import (
	"context"
	"errors"
	"io"
	"net"
	"net/netip"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/paddock-lb/paddock/internal/dataplane"
)

func TestTCPSpread(t *testing.T) {
	t.Parallel()
	fe := feAddr(1, 18001)
	bs := []*tcpBackend{newTCPBackend(t, "a", 1), newTCPBackend(t, "b", 2), newTCPBackend(t, "c", 3)}
	p := newProxy(t)
	apply(t, p, tcpConfig(fe, dataplane.Rule{
		IdleTimeout: time.Minute,
		Backends:    []dataplane.Backend{bs[0].backend(true), bs[1].backend(true), bs[2].backend(true)},
	}))
	const n = 300
	count := map[string]int{}
	for range n {
		c := dial(t, netip.Addr{}, fe)
		count[c.backend]++
		c.echo(t, "ping")
		c.Close()
	}
	t.Logf("spread over 3 backends: %v", count)
	for _, b := range bs {
		// Expect 100 each; the chance of fewer than 60 is about 1e-6.
		if count[b.name] < 60 {
			t.Errorf("backend %s got %d of %d connections, want at least 60", b.name, count[b.name], n)
		}
	}
	eventually(t, "all flows finished", func() bool { return p.Stats()["lb/fe/tcp/18001"].ActiveFlows == 0 })
	st := p.Stats()["lb/fe/tcp/18001"]
	want := ListenerStats{
		Addr: fe, Protocol: dataplane.TCP, BytesIn: 4 * n, NewFlows: n, EligibleBackends: 3,
		Backends: map[string]BackendStats{
			"pool/a": {Member: true, Healthy: true, Eligible: true},
			"pool/b": {Member: true, Healthy: true, Eligible: true},
			"pool/c": {Member: true, Healthy: true, Eligible: true},
		},
	}
	if diff := cmp.Diff(want, st, cmpopts.IgnoreFields(ListenerStats{}, "BytesOut"), cmpopts.EquateComparable(netip.AddrPort{})); diff != "" {
		t.Errorf("Stats (-want +got):\n%s", diff)
	}
	// Name and echo; the backend's "done" may or may not reach a client
	// that already closed.
	if st.BytesOut < 6*n || st.BytesOut > 11*n {
		t.Errorf("BytesOut = %d, want between %d and %d", st.BytesOut, 6*n, 11*n)
	}
}

func TestTCPDistributionStickiness(t *testing.T) {
	t.Parallel()
	for i, tc := range []struct {
		dist dataplane.Distribution
		// perSource: every connection from one source IP lands on one
		// backend.
		perSource bool
	}{
		{dataplane.FiveTuple, false},
		{dataplane.TwoTuple, true},
		{dataplane.ThreeTuple, true},
	} {
		t.Run(tc.dist.String(), func(t *testing.T) {
			t.Parallel()
			fe := feAddr(10+i, 18010)
			host := byte(10 + 3*i)
			bs := []*tcpBackend{newTCPBackend(t, "a", host), newTCPBackend(t, "b", host+1), newTCPBackend(t, "c", host+2)}
			p := newProxy(t)
			apply(t, p, tcpConfig(fe, dataplane.Rule{
				Distribution: tc.dist,
				Backends:     []dataplane.Backend{bs[0].backend(true), bs[1].backend(true), bs[2].backend(true)},
			}))
			used := map[string]bool{}
			for s := range 12 {
				perSrc := map[string]int{}
				for range 8 { // 8 connections, so 8 source ports
					c := dial(t, srcIP(s), fe)
					perSrc[c.backend]++
					used[c.backend] = true
					c.Close()
				}
				if tc.perSource && len(perSrc) != 1 {
					t.Errorf("source %s spread over %v, want one backend", srcIP(s), perSrc)
				}
				if !tc.perSource && s == 0 && len(perSrc) == 1 {
					t.Errorf("8 source ports of %s all on one backend %v", srcIP(s), perSrc)
				}
			}
			// 12 sources on one backend out of 3: chance 3^-11.
			if len(used) < 2 {
				t.Errorf("all sources on %v, want a spread", used)
			}
		})
	}
}

func TestTCPUnhealthyGetsNoNewFlows(t *testing.T) {
	t.Parallel()
	fe := feAddr(20, 18020)
	a, b, c := newTCPBackend(t, "a", 20), newTCPBackend(t, "b", 21), newTCPBackend(t, "c", 22)
	p := newProxy(t)
	apply(t, p, tcpConfig(fe, dataplane.Rule{
		Backends: []dataplane.Backend{a.backend(true), b.backend(false), c.backend(true)},
	}))
	count := map[string]int{}
	for range 60 {
		cl := dial(t, netip.Addr{}, fe)
		count[cl.backend]++
		cl.Close()
	}
	if count["b"] != 0 || count["a"] == 0 || count["c"] == 0 {
		t.Errorf("connections by backend = %v, want none on unhealthy b, some on a and c", count)
	}
}

func TestTCPEstablishedSurvivesChanges(t *testing.T) {
	t.Parallel()
	fe := feAddr(21, 18021)
	fe2 := feAddr(21, 18022)
	a, b := newTCPBackend(t, "a", 23), newTCPBackend(t, "b", 24)
	p := newProxy(t)
	apply(t, p, tcpConfig(fe, dataplane.Rule{Backends: []dataplane.Backend{a.backend(true)}}))
	cl := dial(t, netip.Addr{}, fe)
	defer cl.Close()
	cl.echo(t, "before")

	// a turns unhealthy: the connection stays; new ones go to b.
	apply(t, p, tcpConfig(fe, dataplane.Rule{Backends: []dataplane.Backend{a.backend(false), b.backend(true)}}))
	cl.echo(t, "a unhealthy")
	for range 10 {
		n := dial(t, netip.Addr{}, fe)
		if n.backend != "b" {
			t.Errorf("new connection on %s, want b", n.backend)
		}
		n.Close()
	}

	// An unrelated change: another listener, another backend.
	cfg := tcpConfig(fe, dataplane.Rule{
		DrainPeriod: time.Millisecond,
		Backends:    []dataplane.Backend{a.backend(false), b.backend(true), {Key: "pool/x", Addr: netip.MustParseAddrPort("127.10.200.99:9"), Healthy: false}},
	})
	cfg.Listeners = append(cfg.Listeners, dataplane.Listener{
		Key: "lb/fe2", Addr: fe2, Protocol: dataplane.TCP,
		Rule: dataplane.Rule{Name: "lb/rule2", Backends: []dataplane.Backend{b.backend(true)}},
	})
	apply(t, p, cfg)
	time.Sleep(50 * time.Millisecond) // past the (irrelevant) drain period
	cl.echo(t, "after unrelated change")
	if got := p.Stats()["lb/fe/tcp/18021"].Backends["pool/a"]; got != (BackendStats{Member: true, ActiveFlows: 1}) {
		t.Errorf("backend a stats = %+v, want member, unhealthy, 1 active flow", got)
	}
}

func TestTCPDrain(t *testing.T) {
	t.Parallel()
	for i, tc := range []struct {
		name  string
		drain time.Duration
	}{
		{"cut after drain period", time.Second},
		{"kept without drain period", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			fe := feAddr(30+i, 18030)
			a, b := newTCPBackend(t, "a", byte(30+2*i)), newTCPBackend(t, "b", byte(31+2*i))
			p := newProxy(t)
			rule := dataplane.Rule{DrainPeriod: tc.drain, Backends: []dataplane.Backend{a.backend(true)}}
			apply(t, p, tcpConfig(fe, rule))
			cl := dial(t, netip.Addr{}, fe)
			defer cl.Close()

			rule.Backends = []dataplane.Backend{b.backend(true)}
			removed := time.Now()
			apply(t, p, tcpConfig(fe, rule))
			cl.echo(t, "still here")
			st := p.Stats()["lb/fe/tcp/18030"].Backends["pool/a"]
			if diff := cmp.Diff(BackendStats{ActiveFlows: 1}, st); diff != "" {
				t.Errorf("removed backend stats (-want +got):\n%s", diff)
			}

			if tc.drain == 0 {
				time.Sleep(500 * time.Millisecond)
				cl.echo(t, "still here later")
				return
			}
			err := cl.readErr(waitFor)
			if !isReset(err) {
				t.Errorf("client read after drain = %v, want connection reset", err)
			}
			if d := time.Since(removed); d < tc.drain {
				t.Errorf("cut after %v, before the drain period %v", d, tc.drain)
			}
			if err := <-a.ended; !isReset(err) {
				t.Errorf("backend read after drain = %v, want connection reset", err)
			}
			if got := p.Stats()["lb/fe/tcp/18030"].Drained; got != 1 {
				t.Errorf("Drained = %d, want 1", got)
			}
		})
	}
}

func TestTCPDrainCanceledWhenBackendReturns(t *testing.T) {
	t.Parallel()
	fe := feAddr(35, 18035)
	a, b := newTCPBackend(t, "a", 35), newTCPBackend(t, "b", 36)
	p := newProxy(t)
	rule := dataplane.Rule{DrainPeriod: time.Second, Backends: []dataplane.Backend{a.backend(true)}}
	apply(t, p, tcpConfig(fe, rule))
	cl := dial(t, netip.Addr{}, fe)
	defer cl.Close()
	apply(t, p, tcpConfig(fe, dataplane.Rule{DrainPeriod: rule.DrainPeriod, Backends: []dataplane.Backend{b.backend(true)}}))
	apply(t, p, tcpConfig(fe, dataplane.Rule{DrainPeriod: rule.DrainPeriod, Backends: []dataplane.Backend{a.backend(false), b.backend(true)}}))
	time.Sleep(1500 * time.Millisecond)
	cl.echo(t, "back in the rule")
}

func TestTCPHalfClose(t *testing.T) {
	t.Parallel()
	fe := feAddr(40, 18040)
	a := newTCPBackend(t, "a", 40)
	p := newProxy(t)
	apply(t, p, tcpConfig(fe, dataplane.Rule{Backends: []dataplane.Backend{a.backend(true)}}))
	cl := dial(t, netip.Addr{}, fe)
	defer cl.Close()
	cl.SetDeadline(time.Now().Add(waitFor))
	if _, err := io.WriteString(cl, "request"); err != nil {
		t.Fatal(err)
	}
	if err := cl.CloseWrite(); err != nil {
		t.Fatal(err)
	}
	// The backend sees EOF, then still answers ("done").
	rest, err := io.ReadAll(cl.r)
	if err != nil {
		t.Fatalf("read after half-close: %v", err)
	}
	if got, want := string(rest), "requestdone\n"; got != want {
		t.Errorf("read after half-close = %q, want %q", got, want)
	}
	if err := <-a.ended; err != nil {
		t.Errorf("backend saw %v, want EOF", err)
	}
}

func TestTCPIdleTimeout(t *testing.T) {
	t.Parallel()

	t.Run("reset", func(t *testing.T) {
		t.Parallel()
		fe := feAddr(50, 18050)
		a := newTCPBackend(t, "a", 50)
		p := newProxy(t)
		// Long enough that a busy 2-core machine does not stall the busy
		// client's loop for a whole timeout.
		const idle = time.Second
		apply(t, p, tcpConfig(fe, dataplane.Rule{IdleTimeout: idle, TCPReset: true, Backends: []dataplane.Backend{a.backend(true)}}))

		// Traffic every 100 ms for 2.5 idle timeouts keeps a flow alive.
		busy := dial(t, netip.Addr{}, fe)
		defer busy.Close()
		for range 25 {
			busy.echo(t, "x")
			time.Sleep(idle / 10)
		}

		start := time.Now()
		quiet := dial(t, netip.Addr{}, fe)
		defer quiet.Close()
		if err := quiet.readErr(waitFor); !isReset(err) {
			t.Errorf("idle client read = %v, want connection reset", err)
		}
		// The kernel's idle time is counted in jiffies (up to 10 ms).
		if d := time.Since(start); d < idle-20*time.Millisecond {
			t.Errorf("reset after %v, before the idle timeout %v", d, idle)
		}
		if err := <-a.ended; !isReset(err) {
			t.Errorf("idle backend read = %v, want connection reset", err)
		}
		if got := p.Stats()["lb/fe/tcp/18050"].IdleTimeouts; got < 1 {
			t.Errorf("IdleTimeouts = %d, want at least 1", got)
		}
	})

	t.Run("no reset", func(t *testing.T) {
		t.Parallel()
		fe := feAddr(51, 18051)
		a := newTCPBackend(t, "a", 51)
		p := newProxy(t)
		const idle = 2 * time.Second
		apply(t, p, tcpConfig(fe, dataplane.Rule{IdleTimeout: idle, Backends: []dataplane.Backend{a.backend(true)}}))

		speaks := dial(t, netip.Addr{}, fe)
		defer speaks.Close()
		silent := dial(t, netip.Addr{}, fe)
		defer silent.Close()

		// The backends see a FIN.
		for range 2 {
			if err := <-a.ended; err != nil {
				t.Fatalf("backend read = %v, want EOF", err)
			}
		}
		// The client sees silence...
		if err := speaks.readErr(200 * time.Millisecond); !isTimeout(err) {
			t.Errorf("client read after idle timeout = %v, want silence (timeout)", err)
		}
		// ...until it speaks, when it gets a RST.
		speaks.SetDeadline(time.Now().Add(waitFor))
		if _, err := io.WriteString(speaks, "anyone?"); err != nil {
			t.Fatalf("write: %v", err)
		}
		if err := speaks.readErr(waitFor); !isReset(err) {
			t.Errorf("client read after speaking = %v, want connection reset", err)
		}
		// A client that stays silent gets a RST one more idle timeout later.
		if err := silent.readErr(waitFor); !isReset(err) {
			t.Errorf("silent client read = %v, want connection reset", err)
		}
		eventually(t, "flows gone", func() bool { return p.Stats()["lb/fe/tcp/18051"].ActiveFlows == 0 })
	})
}

func TestTCPNoHealthy(t *testing.T) {
	t.Parallel()
	for i, allowAll := range []bool{false, true} {
		t.Run("allow all "+map[bool]string{false: "off", true: "on"}[allowAll], func(t *testing.T) {
			t.Parallel()
			fe := feAddr(60+i, 18060)
			a := newTCPBackend(t, "a", byte(60+i))
			p := newProxy(t)
			apply(t, p, tcpConfig(fe, dataplane.Rule{NoHealthyAllowAll: allowAll, Backends: []dataplane.Backend{a.backend(false)}}))
			c, err := tryDial(netip.Addr{}, fe)
			st := p.Stats()["lb/fe/tcp/18060"]
			if allowAll {
				if err != nil {
					t.Fatalf("dial with NoHealthyAllowAll: %v", err)
				}
				c.echo(t, "served")
				c.Close()
				return
			}
			if err == nil {
				c.Close()
				t.Fatalf("connection served by %s with no healthy backend", c.backend)
			}
			if !isReset(err) && !errors.Is(err, io.EOF) {
				t.Errorf("dial with no healthy backend: %v, want reset", err)
			}
			if st.Refused != 1 || st.EligibleBackends != 0 {
				t.Errorf("Refused, EligibleBackends = %d, %d; want 1, 0", st.Refused, st.EligibleBackends)
			}
		})
	}
}

func TestApplyListeners(t *testing.T) {
	t.Parallel()
	feA, feB, feC := feAddr(70, 18070), feAddr(71, 18071), feAddr(72, 18072)
	a := newTCPBackend(t, "a", 70)
	rule := dataplane.Rule{Backends: []dataplane.Backend{a.backend(true)}}
	taken, err := net.Listen("tcp4", feB.String())
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()

	p := newProxy(t)
	cfg := &dataplane.Config{Listeners: []dataplane.Listener{
		{Key: "A", Addr: feA, Protocol: dataplane.TCP, Rule: rule},
		{Key: "B", Addr: feB, Protocol: dataplane.TCP, Rule: rule},
		{Key: "C", Addr: feC, Protocol: dataplane.TCP, Rule: rule},
		{Key: "C again", Addr: feC, Protocol: dataplane.TCP, Rule: rule},
		{Key: "C udp", Addr: feC, Protocol: dataplane.UDP, Rule: rule},
	}}
	st, err := p.Apply(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"B", "C again"}, mapKeys(st.Errors)); diff != "" {
		t.Errorf("status errors %v (-want +got):\n%s", st.Errors, diff)
	}
	if !errors.Is(st.Errors["B"], syscall.EADDRINUSE) {
		t.Errorf("B: %v, want address in use", st.Errors["B"])
	}
	if !errors.Is(st.Errors["C again"], ErrDuplicateListener) {
		t.Errorf("C again: %v, want %v", st.Errors["C again"], ErrDuplicateListener)
	}
	dial(t, netip.Addr{}, feA).Close()
	dial(t, netip.Addr{}, feC).Close()

	// The bind is retried on the next Apply; A keeps its socket.
	lnA := p.listeners[lkey{feA, dataplane.TCP}]
	taken.Close()
	cfg.Listeners = cfg.Listeners[:3]
	apply(t, p, cfg)
	if p.listeners[lkey{feA, dataplane.TCP}] != lnA {
		t.Error("listener A was reopened")
	}
	dial(t, netip.Addr{}, feB).Close()

	// Removed listeners stop accepting; established connections stay.
	cl := dial(t, netip.Addr{}, feA)
	defer cl.Close()
	apply(t, p, &dataplane.Config{Listeners: cfg.Listeners[1:2]})
	if _, err := tryDial(netip.Addr{}, feA); !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("dial removed listener: %v, want connection refused", err)
	}
	cl.echo(t, "listener gone, connection stays")
	if diff := cmp.Diff([]string{"B"}, mapKeys(p.Stats())); diff != "" {
		t.Errorf("Stats keys (-want +got):\n%s", diff)
	}
}

// TestApplyKeepsAccepting connects continuously while configurations are
// applied: no connection may fail.
func TestApplyKeepsAccepting(t *testing.T) {
	t.Parallel()
	fe := feAddr(75, 18075)
	a, b := newTCPBackend(t, "a", 75), newTCPBackend(t, "b", 76)
	p := newProxy(t)
	cfgs := []*dataplane.Config{
		tcpConfig(fe, dataplane.Rule{Backends: []dataplane.Backend{a.backend(true), b.backend(true)}}),
		tcpConfig(fe, dataplane.Rule{Backends: []dataplane.Backend{a.backend(true), b.backend(false)}}),
		tcpConfig(fe, dataplane.Rule{Backends: []dataplane.Backend{b.backend(true)}}),
	}
	apply(t, p, cfgs[0])
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error)
	go func() {
		defer close(done)
		for i := 0; ctx.Err() == nil && i < 10000; i++ {
			c, err := tryDial(netip.Addr{}, fe)
			if err != nil {
				done <- err
				return
			}
			c.Close()
		}
	}()
	for i := range 100 {
		apply(t, p, cfgs[i%len(cfgs)])
	}
	cancel()
	for err := range done {
		t.Errorf("connection during Apply: %v", err)
	}
}

func TestCloseResetsEverything(t *testing.T) {
	t.Parallel()
	fe := feAddr(80, 18080)
	a := newTCPBackend(t, "a", 80)
	p := New(testOptions())
	apply(t, p, tcpConfig(fe, dataplane.Rule{Backends: []dataplane.Backend{a.backend(true)}}))
	cl := dial(t, netip.Addr{}, fe)
	defer cl.Close()
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if err := cl.readErr(waitFor); !isReset(err) {
		t.Errorf("client read after Close = %v, want connection reset", err)
	}
	if _, err := p.Apply(t.Context(), &dataplane.Config{}); !errors.Is(err, ErrClosed) {
		t.Errorf("Apply after Close = %v, want %v", err, ErrClosed)
	}
	if err := p.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func mapKeys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// TestTCPBulk moves several MiB each way (splice on Linux), passes the
// client's FIN on while the reply still flows, and counts every byte.
func TestTCPBulk(t *testing.T) {
	t.Parallel()
	fe := feAddr(85, 18085)
	a := newTCPBackend(t, "a", 85)
	p := newProxy(t)
	apply(t, p, tcpConfig(fe, dataplane.Rule{IdleTimeout: time.Minute, Backends: []dataplane.Backend{a.backend(true)}}))
	cl := dial(t, netip.Addr{}, fe)
	defer cl.Close()
	const size = 8 << 20
	msg := make([]byte, size)
	for i := range msg {
		msg[i] = byte(i*7 + i>>11)
	}
	cl.SetDeadline(time.Now().Add(waitFor))
	werr := make(chan error, 1)
	go func() {
		_, err := cl.Write(msg)
		if err == nil {
			err = cl.CloseWrite()
		}
		werr <- err
	}()
	got, err := io.ReadAll(cl.r)
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	if err := <-werr; err != nil {
		t.Fatalf("write: %v", err)
	}
	if want := string(msg) + "done\n"; string(got) != want {
		t.Fatalf("read %d bytes, want %d (the %d sent and done)", len(got), len(want), size)
	}
	cl.Close()
	eventually(t, "flow finished", func() bool { return p.Stats()["lb/fe/tcp/18085"].ActiveFlows == 0 })
	st := p.Stats()["lb/fe/tcp/18085"]
	if want := uint64(len("a\n") + size + len("done\n")); st.BytesIn != size || st.BytesOut != want {
		t.Errorf("BytesIn, BytesOut = %d, %d; want %d, %d", st.BytesIn, st.BytesOut, size, want)
	}
}

// TestTCPCountersOfOpenConnection: an open connection's bytes are counted
// as they are relayed, not only when it ends.
func TestTCPCountersOfOpenConnection(t *testing.T) {
	t.Parallel()
	fe := feAddr(86, 18086)
	a := newTCPBackend(t, "a", 86)
	p := newProxy(t)
	apply(t, p, tcpConfig(fe, dataplane.Rule{IdleTimeout: time.Minute, Backends: []dataplane.Backend{a.backend(true)}}))
	cl := dial(t, netip.Addr{}, fe)
	defer cl.Close()
	for i := range 3 {
		cl.echo(t, "hello")
		eventually(t, "counters caught up", func() bool {
			st := p.Stats()["lb/fe/tcp/18086"]
			return st.BytesIn == uint64(5*(i+1)) && st.BytesOut == uint64(2+5*(i+1))
		})
	}
}
