package proxy

import (
	"bytes"
	"errors"
	"net"
	"net/netip"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/paddock-lb/paddock/internal/dataplane"
)

// udpBackend answers each datagram with "<name>:<payload>".
type udpBackend struct {
	name string
	pc   *net.UDPConn
	addr netip.AddrPort
	wg   sync.WaitGroup
}

func newUDPBackend(t *testing.T, name string, host byte) *udpBackend {
	t.Helper()
	pc, err := net.ListenUDP("udp4", net.UDPAddrFromAddrPort(netip.AddrPortFrom(netip.AddrFrom4([4]byte{127, 10, 201, host}), 0)))
	if err != nil {
		t.Fatalf("udp backend %s: %v", name, err)
	}
	b := &udpBackend{name: name, pc: pc, addr: pc.LocalAddr().(*net.UDPAddr).AddrPort()}
	b.wg.Go(func() {
		buf := make([]byte, 2048)
		for {
			n, from, err := pc.ReadFromUDPAddrPort(buf)
			if err != nil {
				return
			}
			pc.WriteToUDPAddrPort(append([]byte(name+":"), buf[:n]...), from)
		}
	})
	t.Cleanup(func() {
		pc.Close()
		b.wg.Wait()
	})
	return b
}

func (b *udpBackend) backend(healthy bool) dataplane.Backend {
	return dataplane.Backend{Key: "pool/" + b.name, Addr: b.addr, Healthy: healthy}
}

func udpConfig(fe netip.AddrPort, r dataplane.Rule) *dataplane.Config {
	r.Name = "lb/udprule"
	return &dataplane.Config{Listeners: []dataplane.Listener{{
		Key: "lb/fe/udp", Addr: fe, Protocol: dataplane.UDP, Rule: r,
	}}}
}

// udpClient is a client socket with its own source port.
type udpClient struct {
	*net.UDPConn
}

func newUDPClient(t *testing.T, fe netip.AddrPort) udpClient {
	t.Helper()
	c, err := net.DialUDP("udp4", nil, net.UDPAddrFromAddrPort(fe))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return udpClient{c}
}

// ask sends msg and returns the name of the backend that answered, or ""
// if no answer came within wait.
func (c udpClient) ask(t *testing.T, msg string, wait time.Duration) string {
	t.Helper()
	if _, err := c.Write([]byte(msg)); err != nil {
		t.Fatalf("udp write: %v", err)
	}
	c.SetReadDeadline(time.Now().Add(wait))
	buf := make([]byte, 2048)
	for {
		n, err := c.Read(buf)
		if err != nil {
			if isTimeout(err) || errors.Is(err, syscall.ECONNREFUSED) {
				return ""
			}
			t.Fatalf("udp read: %v", err)
		}
		name, payload, _ := strings.Cut(string(buf[:n]), ":")
		if payload == msg { // skip late answers to earlier questions
			return name
		}
	}
}

func TestUDPEchoAndStickiness(t *testing.T) {
	t.Parallel()
	fe := feAddr(100, 18100)
	a, b, c := newUDPBackend(t, "a", 1), newUDPBackend(t, "b", 2), newUDPBackend(t, "c", 3)
	p := newProxy(t)
	apply(t, p, udpConfig(fe, dataplane.Rule{Backends: []dataplane.Backend{a.backend(true), b.backend(true), c.backend(true)}}))
	used := map[string]int{}
	const clients, each = 20, 5
	for i := range clients {
		cl := newUDPClient(t, fe)
		first := ""
		for j := range each {
			got := cl.ask(t, strings.Repeat("x", i+j+1), waitFor)
			if got == "" {
				t.Fatalf("client %d: no answer", i)
			}
			if first == "" {
				first = got
				used[got]++
			}
			if got != first {
				t.Errorf("client %d: answer from %s, then %s; want one backend per flow", i, first, got)
			}
		}
	}
	if len(used) < 2 {
		t.Errorf("flows by backend %v, want a spread", used)
	}
	// The last answer may reach the client before it is counted.
	eventually(t, "all answers counted", func() bool { return p.Stats()["lb/fe/udp"].PacketsOut == clients*each })
	st := p.Stats()["lb/fe/udp"]
	if st.NewFlows != clients || st.PacketsIn != clients*each || st.ActiveFlows != clients {
		t.Errorf("stats %+v, want %d flows, %d datagrams each way", st, clients, clients*each)
	}
}

func TestUDPFlowMovesOffIneligibleBackend(t *testing.T) {
	t.Parallel()
	fe := feAddr(101, 18101)
	a, b, c := newUDPBackend(t, "a", 11), newUDPBackend(t, "b", 12), newUDPBackend(t, "c", 13)
	byName := map[string]*udpBackend{"a": a, "b": b, "c": c}
	p := newProxy(t)
	apply(t, p, udpConfig(fe, dataplane.Rule{Backends: []dataplane.Backend{a.backend(true), b.backend(true)}}))
	cl := newUDPClient(t, fe)
	first := cl.ask(t, "1", waitFor)
	other := map[string]string{"a": "b", "b": "a"}[first]

	// An unrelated change (a new backend) keeps the flow where it is,
	// wherever Maglev would now put it.
	apply(t, p, udpConfig(fe, dataplane.Rule{Backends: []dataplane.Backend{a.backend(true), b.backend(true), c.backend(true)}}))
	if got := cl.ask(t, "2", waitFor); got != first {
		t.Errorf("after adding c: answer from %s, want %s", got, first)
	}

	// Its backend goes down: the next datagram moves the flow.
	apply(t, p, udpConfig(fe, dataplane.Rule{Backends: []dataplane.Backend{
		byName[first].backend(false), byName[other].backend(true),
	}}))
	if got := cl.ask(t, "3", waitFor); got != other {
		t.Errorf("after %s went down: answer from %s, want %s", first, got, other)
	}
	if got := cl.ask(t, "4", waitFor); got != other {
		t.Errorf("then: answer from %s, want %s", got, other)
	}
	st := p.Stats()["lb/fe/udp"]
	if st.NewFlows != 2 || st.ActiveFlows != 1 {
		t.Errorf("NewFlows, ActiveFlows = %d, %d; want 2, 1", st.NewFlows, st.ActiveFlows)
	}
}

func TestUDPIdleExpiry(t *testing.T) {
	t.Parallel()
	fe := feAddr(102, 18102)
	a := newUDPBackend(t, "a", 21)
	p := newProxy(t)
	apply(t, p, udpConfig(fe, dataplane.Rule{IdleTimeout: 200 * time.Millisecond, Backends: []dataplane.Backend{a.backend(true)}}))
	cl := newUDPClient(t, fe)
	start := time.Now()
	if got := cl.ask(t, "hello", waitFor); got != "a" {
		t.Fatalf("answer from %q, want a", got)
	}
	eventually(t, "flow expired", func() bool { return p.Stats()["lb/fe/udp"].ActiveFlows == 0 })
	if d := time.Since(start); d < 200*time.Millisecond {
		t.Errorf("flow expired after %v, before its idle timeout", d)
	}
	if got := cl.ask(t, "again", waitFor); got != "a" {
		t.Fatalf("answer from %q, want a", got)
	}
	st := p.Stats()["lb/fe/udp"]
	if st.NewFlows != 2 || st.IdleTimeouts < 1 {
		t.Errorf("NewFlows, IdleTimeouts = %d, %d; want 2, at least 1", st.NewFlows, st.IdleTimeouts)
	}
}

func TestUDPRefusedAndFull(t *testing.T) {
	t.Parallel()
	fe := feAddr(103, 18103)
	a := newUDPBackend(t, "a", 31)
	opts := testOptions()
	opts.MaxUDPFlows = 2
	p := New(opts)
	defer p.Close()

	apply(t, p, udpConfig(fe, dataplane.Rule{Backends: []dataplane.Backend{a.backend(false)}}))
	cl := newUDPClient(t, fe)
	if got := cl.ask(t, "anyone?", 200*time.Millisecond); got != "" {
		t.Errorf("answer from %s with no healthy backend", got)
	}
	apply(t, p, udpConfig(fe, dataplane.Rule{NoHealthyAllowAll: true, Backends: []dataplane.Backend{a.backend(false)}}))
	if got := cl.ask(t, "allow all", waitFor); got != "a" {
		t.Errorf("answer from %q with NoHealthyAllowAll, want a", got)
	}
	if got := newUDPClient(t, fe).ask(t, "second", waitFor); got != "a" {
		t.Errorf("second flow: answer from %q, want a", got)
	}
	if got := newUDPClient(t, fe).ask(t, "third", 200*time.Millisecond); got != "" {
		t.Errorf("third flow over MaxUDPFlows answered by %s", got)
	}
	st := p.Stats()["lb/fe/udp"]
	if st.Refused != 1 || st.Dropped != 1 || st.ActiveFlows != 2 {
		t.Errorf("Refused, Dropped, ActiveFlows = %d, %d, %d; want 1, 1, 2", st.Refused, st.Dropped, st.ActiveFlows)
	}
}

func TestUDPListenerRemoved(t *testing.T) {
	t.Parallel()
	fe := feAddr(104, 18104)
	a := newUDPBackend(t, "a", 41)
	p := newProxy(t)
	apply(t, p, udpConfig(fe, dataplane.Rule{Backends: []dataplane.Backend{a.backend(true)}}))
	cl := newUDPClient(t, fe)
	if got := cl.ask(t, "hi", waitFor); got != "a" {
		t.Fatalf("answer from %q, want a", got)
	}
	apply(t, p, &dataplane.Config{})
	if got := cl.ask(t, "still there?", 200*time.Millisecond); got != "" {
		t.Errorf("answer from %s after the listener was removed", got)
	}
	// The port is free again.
	pc, err := net.ListenUDP("udp4", net.UDPAddrFromAddrPort(fe))
	if err != nil {
		t.Fatalf("rebind removed listener's port: %v", err)
	}
	pc.Close()
}

func TestIPv6Frontends(t *testing.T) {
	t.Parallel()
	if ln, err := net.Listen("tcp6", "[::1]:0"); err != nil {
		t.Skipf("no IPv6 loopback: %v", err)
	} else {
		ln.Close()
	}
	feT := netip.MustParseAddrPort("[::1]:18120")
	feU := netip.MustParseAddrPort("[::1]:18121")
	a := newTCPBackend(t, "a", 120)
	u := newUDPBackend(t, "u", 120)
	p := newProxy(t)
	cfg := tcpConfig(feT, dataplane.Rule{Backends: []dataplane.Backend{a.backend(true)}})
	cfg.Listeners = append(cfg.Listeners, udpConfig(feU, dataplane.Rule{Backends: []dataplane.Backend{u.backend(true)}}).Listeners...)
	apply(t, p, cfg)
	c := dial(t, netip.Addr{}, feT)
	defer c.Close()
	c.echo(t, "over v6")
	cl, err := net.DialUDP("udp6", nil, net.UDPAddrFromAddrPort(feU))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if got := (udpClient{cl}).ask(t, "over v6", waitFor); got != "u" {
		t.Errorf("udp answer from %q, want u", got)
	}
}

// TestUDPDatagramSizes: datagrams from empty to the largest IPv4 payload
// are relayed whole, both ways, and counted.
func TestUDPDatagramSizes(t *testing.T) {
	t.Parallel()
	fe := feAddr(106, 18106)
	echo, err := net.ListenUDP("udp4", net.UDPAddrFromAddrPort(netip.MustParseAddrPort("127.10.201.106:0")))
	if err != nil {
		t.Fatal(err)
	}
	defer echo.Close()
	go func() {
		buf := make([]byte, maxDatagram)
		for {
			n, from, err := echo.ReadFromUDPAddrPort(buf)
			if err != nil {
				return
			}
			_, _ = echo.WriteToUDPAddrPort(buf[:n], from)
		}
	}()
	p := newProxy(t)
	apply(t, p, udpConfig(fe, dataplane.Rule{Backends: []dataplane.Backend{
		{Key: "pool/echo", Addr: echo.LocalAddr().(*net.UDPAddr).AddrPort(), Healthy: true}}}))
	cl, err := net.DialUDP("udp4", nil, net.UDPAddrFromAddrPort(fe))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	var total uint64
	buf := make([]byte, maxDatagram)
	for _, size := range []int{0, 1, 1472, 9000, 65507} {
		msg := make([]byte, size)
		for i := range msg {
			msg[i] = byte(i*7 + size)
		}
		// A datagram may be lost on a busy machine: ask again.
		var got []byte
		for try := 0; try < 5 && got == nil; try++ {
			if _, err := cl.Write(msg); err != nil {
				t.Fatalf("write %d bytes: %v", size, err)
			}
			total += uint64(size)
			cl.SetReadDeadline(time.Now().Add(time.Second))
			if n, err := cl.Read(buf); err == nil {
				got = buf[:n]
			}
		}
		if !bytes.Equal(got, msg) {
			t.Errorf("%d-byte datagram came back as %d bytes (or not at all)", size, len(got))
		}
	}
	if st := p.Stats()["lb/fe/udp"]; st.BytesIn != total || st.PacketsIn < 5 {
		t.Errorf("BytesIn, PacketsIn = %d, %d; want %d, at least 5", st.BytesIn, st.PacketsIn, total)
	}
}
