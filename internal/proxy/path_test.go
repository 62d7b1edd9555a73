package proxy

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/paddock-lb/paddock/internal/dataplane"
)

// These tests hold for both TCP paths; on Linux the event loops serve new
// connections and hand them over to the goroutine path, and
// TestGoroutinePath runs every TCP and UDP test again without event loops.

// noLoopsEnv makes newProxy turn the event loops off (see
// TestGoroutinePath).
const noLoopsEnv = "PADDOCK_PROXY_NO_EVENT_LOOPS"

func testOptions() Options {
	return Options{DialTimeout: waitFor, NoEventLoops: os.Getenv(noLoopsEnv) != ""}
}

// TestGoroutinePath runs the TCP and UDP tests again in a child process
// whose proxies have no event loops, so that the goroutine paths are tested
// where the event loops would serve instead.
func TestGoroutinePath(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the goroutine path is the only path here")
	}
	if os.Getenv(noLoopsEnv) != "" {
		t.Skip("already without event loops")
	}
	// Not parallel: the child's tests use the same addresses as this
	// process's, which run after the sequential tests.
	cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run", "^(TestTCP|TestUDP|TestIPv6|TestApply|TestClose)", "-test.count", "1")
	cmd.Env = append(os.Environ(), noLoopsEnv+"=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("TCP and UDP tests without event loops: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "PASS") {
		t.Fatalf("TCP and UDP tests without event loops ran nothing:\n%s", out)
	}
}

// TestTCPDialFailure: a backend that refuses the connection gets the
// client a RST, and the failure is counted.
func TestTCPDialFailure(t *testing.T) {
	t.Parallel()
	fe := feAddr(120, 18120)
	ln, err := net.ListenTCP("tcp4", net.TCPAddrFromAddrPort(netip.MustParseAddrPort("127.10.200.121:0")))
	if err != nil {
		t.Fatal(err)
	}
	dead := ln.Addr().(*net.TCPAddr).AddrPort()
	ln.Close() // nothing listens there now
	p := newProxy(t)
	apply(t, p, tcpConfig(fe, dataplane.Rule{Backends: []dataplane.Backend{{Key: "pool/dead", Addr: dead, Healthy: true}}}))
	if err := dialRead(fe); !isReset(err) {
		t.Errorf("client = %v, want connection reset", err)
	}
	eventually(t, "flow gone", func() bool { return p.Stats()["lb/fe/tcp/18120"].ActiveFlows == 0 })
	if st := p.Stats()["lb/fe/tcp/18120"]; st.DialFailures != 1 || st.NewFlows != 1 {
		t.Errorf("DialFailures, NewFlows = %d, %d; want 1, 1", st.DialFailures, st.NewFlows)
	}
}

// dialRead connects to fe and reads one byte; it returns the error of
// either (a RST may come before connect returns).
func dialRead(fe netip.AddrPort) error {
	c, err := net.DialTCP("tcp4", nil, net.TCPAddrFromAddrPort(fe))
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(waitFor))
	_, err = c.Read(make([]byte, 1))
	return err
}

// TestTCPMaxConns: connections beyond Options.MaxConns are reset and
// counted; a slot frees when a connection ends.
func TestTCPMaxConns(t *testing.T) {
	t.Parallel()
	fe := feAddr(122, 18122)
	a := newTCPBackend(t, "a", 122)
	opts := testOptions()
	opts.MaxConns = 1
	p := New(opts)
	defer p.Close()
	apply(t, p, tcpConfig(fe, dataplane.Rule{Backends: []dataplane.Backend{a.backend(true)}}))
	first := dial(t, netip.Addr{}, fe)
	if err := dialRead(fe); !isReset(err) {
		t.Errorf("second connection = %v, want connection reset", err)
	}
	if st := p.Stats()["lb/fe/tcp/18122"]; st.Dropped != 1 {
		t.Errorf("Dropped = %d, want 1", st.Dropped)
	}
	first.echo(t, "still served")
	first.Close()
	eventually(t, "first connection ended", func() bool { return p.Stats()["lb/fe/tcp/18122"].ActiveFlows == 0 })
	third := dial(t, netip.Addr{}, fe)
	defer third.Close()
	third.echo(t, "a slot freed")
}

// TestTCPSlowBackendKeepsEveryByte: a backend that does not read for a
// while makes the proxy's writes to it fall short; what was read and not
// yet written must reach it, in order, before anything read later.
func TestTCPSlowBackendKeepsEveryByte(t *testing.T) {
	t.Parallel()
	fe := feAddr(124, 18124)
	ln, err := net.ListenTCP("tcp4", net.TCPAddrFromAddrPort(netip.MustParseAddrPort("127.10.200.124:0")))
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	got := make(chan [32]byte, 1)
	full := make(chan struct{}) // the client's writes have piled up
	go func() {
		c, err := ln.AcceptTCP()
		if err != nil {
			close(got)
			return
		}
		defer c.Close()
		<-full
		h := sha256.New()
		if _, err := io.Copy(h, c); err != nil {
			close(got)
			return
		}
		got <- [32]byte(h.Sum(nil))
	}()
	p := newProxy(t)
	apply(t, p, tcpConfig(fe, dataplane.Rule{Backends: []dataplane.Backend{{Key: "pool/slow", Addr: ln.Addr().(*net.TCPAddr).AddrPort(), Healthy: true}}}))
	c, err := net.DialTCP("tcp4", nil, net.TCPAddrFromAddrPort(fe))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(waitFor))
	// Small paced writes, so that the proxy's reads are short and its
	// writes, not its reads, meet the full backend first.
	const chunks = 1 << 10
	h := sha256.New()
	chunk := make([]byte, 8000)
	for i := range chunks {
		for j := range chunk {
			chunk[j] = byte(i + j*31)
		}
		h.Write(chunk)
		if _, err := c.Write(chunk); err != nil {
			t.Fatalf("write %d: %v", i, err)
		}
		if i == chunks/2 {
			close(full)
		}
		time.Sleep(50 * time.Microsecond)
	}
	if err := c.CloseWrite(); err != nil {
		t.Fatal(err)
	}
	select {
	case sum, ok := <-got:
		if !ok {
			t.Fatal("backend failed")
		}
		if sum != [32]byte(h.Sum(nil)) {
			t.Error("the backend received other bytes than the client sent")
		}
	case <-time.After(waitFor):
		t.Fatal("backend did not receive everything")
	}
	if st := p.Stats()["lb/fe/tcp/18124"]; st.BytesIn != chunks*8000 {
		t.Errorf("BytesIn = %d, want %d", st.BytesIn, chunks*8000)
	}
}

// TestTCPLongConnectionMoves: a connection that outlives its time in an
// event loop goes on working on the goroutine path, with its counts.
func TestTCPLongConnectionMoves(t *testing.T) {
	t.Parallel()
	fe := feAddr(126, 18126)
	a := newTCPBackend(t, "a", 126)
	p := newProxy(t)
	apply(t, p, tcpConfig(fe, dataplane.Rule{Backends: []dataplane.Backend{a.backend(true)}}))
	cl := dial(t, netip.Addr{}, fe)
	defer cl.Close()
	cl.echo(t, "young")
	l := p.listenerFor(t, fe)
	eventually(t, "connection on the goroutine path", func() bool {
		l.mu.Lock()
		defer l.mu.Unlock()
		return l.inLoop.Load() == 0 && len(l.flows) == 1 && l.active["pool/a"] == 1
	})
	cl.echo(t, "old")
	if st := p.Stats()["lb/fe/tcp/18126"]; st.ActiveFlows != 1 || st.Backends["pool/a"].ActiveFlows != 1 {
		t.Errorf("ActiveFlows = %d (backend %d), want 1", st.ActiveFlows, st.Backends["pool/a"].ActiveFlows)
	}
	cl.Close()
	eventually(t, "flow ended", func() bool { return p.Stats()["lb/fe/tcp/18126"].ActiveFlows == 0 })
	// Out: the backend's name, the two echoes, "done\n" after the EOF.
	if st := p.Stats()["lb/fe/tcp/18126"]; st.BytesIn != 8 || st.BytesOut != 15 {
		t.Errorf("BytesIn, BytesOut = %d, %d; want 8, 15", st.BytesIn, st.BytesOut)
	}
}

func (p *Proxy) listenerFor(t *testing.T, fe netip.AddrPort) *tcpListener {
	t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	l, ok := p.listeners[lkey{fe, dataplane.TCP}].(*tcpListener)
	if !ok {
		t.Fatalf("no TCP listener at %s", fe)
	}
	return l
}

// TestTCPManyConnections: concurrent connections with payloads from one
// byte to several times the event loops' buffer, each half-closed by the
// client, arrive whole and in order whichever path serves them (small
// ones stay in a loop; large ones are handed over in the middle).
func TestTCPManyConnections(t *testing.T) {
	t.Parallel()
	fe := feAddr(128, 18128)
	a, b := newTCPBackend(t, "a", 128), newTCPBackend(t, "b", 129)
	p := newProxy(t)
	apply(t, p, tcpConfig(fe, dataplane.Rule{Backends: []dataplane.Backend{a.backend(true), b.backend(true)}}))
	const clients, rounds = 32, 8
	sizes := []int{1, 100, 1460, 20 << 10, 64 << 10, 64<<10 + 1, 300 << 10}
	errs := make(chan error, clients)
	var sent atomic.Uint64
	for i := range clients {
		go func() {
			errs <- func() error {
				for r := range rounds {
					size := sizes[(i+r)%len(sizes)]
					msg := make([]byte, size)
					for j := range msg {
						msg[j] = byte(i*131 + r*17 + j)
					}
					c, err := tryDial(netip.Addr{}, fe)
					if err != nil {
						return err
					}
					c.SetDeadline(time.Now().Add(waitFor))
					werr := make(chan error, 1)
					go func() {
						_, err := c.Write(msg)
						if err == nil {
							err = c.CloseWrite()
						}
						werr <- err
					}()
					got, err := io.ReadAll(c.r)
					c.Close()
					if err := errors.Join(err, <-werr); err != nil {
						return fmt.Errorf("client %d round %d (%d bytes): %w", i, r, size, err)
					}
					if want := string(msg) + "done\n"; string(got) != want {
						return fmt.Errorf("client %d round %d: got %d bytes, want %d", i, r, len(got), len(want))
					}
					sent.Add(uint64(size))
				}
				return nil
			}()
		}()
	}
	for range clients {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	eventually(t, "all flows ended", func() bool { return p.Stats()["lb/fe/tcp/18128"].ActiveFlows == 0 })
	if st := p.Stats()["lb/fe/tcp/18128"]; st.NewFlows != clients*rounds || st.BytesIn != sent.Load() {
		t.Errorf("NewFlows, BytesIn = %d, %d; want %d, %d", st.NewFlows, st.BytesIn, clients*rounds, sent.Load())
	}
}

// TestTCPBusyConnectionDrains: a connection that never goes idle (so an
// event loop would keep it) is still cut when its backend leaves the rule
// and the drain period ends.
func TestTCPBusyConnectionDrains(t *testing.T) {
	t.Parallel()
	fe := feAddr(132, 18132)
	a, b := newTCPBackend(t, "a", 132), newTCPBackend(t, "b", 133)
	p := newProxy(t)
	const drain = 300 * time.Millisecond
	apply(t, p, tcpConfig(fe, dataplane.Rule{DrainPeriod: drain, Backends: []dataplane.Backend{a.backend(true)}}))
	cl := dial(t, netip.Addr{}, fe)
	defer cl.Close()
	cl.echo(t, "before")
	apply(t, p, tcpConfig(fe, dataplane.Rule{DrainPeriod: drain, Backends: []dataplane.Backend{b.backend(true)}}))
	removed := time.Now()
	deadline := removed.Add(waitFor)
	var err error
	for err == nil && time.Now().Before(deadline) {
		err = cl.tryEcho("busy")
		time.Sleep(20 * time.Millisecond)
	}
	if !isReset(err) {
		t.Fatalf("busy connection after its backend left: %v, want connection reset", err)
	}
	if d := time.Since(removed); d < drain {
		t.Errorf("cut after %v, before the drain period %v", d, drain)
	}
	if got := p.Stats()["lb/fe/tcp/18132"].Drained; got != 1 {
		t.Errorf("Drained = %d, want 1", got)
	}
}
