package proxy

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/paddock-lb/paddock/internal/dataplane"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// Addresses: every test uses its own frontend IP in 127.10.100.0/22 (so no
// two tests can collide on a port), backends listen on 127.10.200.0/24 with
// OS-chosen ports, and clients that need distinct source IPs bind
// 127.10.150.0/24. All of 127.0.0.0/8 is routed to lo on Linux.

// feAddr returns a frontend address for test number n.
func feAddr(n int, port uint16) netip.AddrPort {
	return netip.AddrPortFrom(netip.AddrFrom4([4]byte{127, 10, byte(100 + n/250), byte(1 + n%250)}), port)
}

// waitFor is a generous bound for things that should happen promptly.
const waitFor = 10 * time.Second

// tcpBackend is a test backend: for each connection it writes its name and
// a newline, echoes everything until EOF, then writes "done\n" and closes.
// How each connection's read side ended is sent on ended.
type tcpBackend struct {
	name  string
	addr  netip.AddrPort
	ln    *net.TCPListener
	ended chan error // nil: EOF from the proxy; else the read error (the first 1000)
	wg    sync.WaitGroup

	mu    sync.Mutex
	conns map[*net.TCPConn]bool
}

func newTCPBackend(t *testing.T, name string, host byte) *tcpBackend {
	t.Helper()
	ln, err := net.ListenTCP("tcp4", net.TCPAddrFromAddrPort(netip.AddrPortFrom(netip.AddrFrom4([4]byte{127, 10, 200, host}), 0)))
	if err != nil {
		t.Fatalf("backend %s: %v", name, err)
	}
	b := &tcpBackend{
		name:  name,
		addr:  ln.Addr().(*net.TCPAddr).AddrPort(),
		ln:    ln,
		ended: make(chan error, 1000),
		conns: make(map[*net.TCPConn]bool),
	}
	b.wg.Go(func() {
		for {
			c, err := ln.AcceptTCP()
			if err != nil {
				return
			}
			b.mu.Lock()
			b.conns[c] = true
			b.mu.Unlock()
			b.wg.Go(func() { b.serve(c) })
		}
	})
	t.Cleanup(b.close)
	return b
}

func (b *tcpBackend) serve(c *net.TCPConn) {
	defer func() {
		b.mu.Lock()
		delete(b.conns, c)
		b.mu.Unlock()
		c.Close()
	}()
	if _, err := fmt.Fprintf(c, "%s\n", b.name); err != nil {
		b.end(err)
		return
	}
	_, err := io.Copy(c, c)
	b.end(err)
	if err == nil {
		fmt.Fprintf(c, "done\n")
	}
}

// end reports how a connection ended, unless nobody is listening.
func (b *tcpBackend) end(err error) {
	select {
	case b.ended <- err:
	default:
	}
}

func (b *tcpBackend) close() {
	b.ln.Close()
	b.mu.Lock()
	for c := range b.conns {
		c.Close()
	}
	b.mu.Unlock()
	b.wg.Wait()
}

func (b *tcpBackend) backend(healthy bool) dataplane.Backend {
	return dataplane.Backend{Key: "pool/" + b.name, Addr: b.addr, Healthy: healthy}
}

// client is a connection through the proxy to a tcpBackend.
type client struct {
	*net.TCPConn
	r       *bufio.Reader
	backend string
}

// dial connects to fe from src (zero: any) and reads the backend's name.
func dial(t *testing.T, src netip.Addr, fe netip.AddrPort) *client {
	t.Helper()
	c, err := tryDial(src, fe)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func tryDial(src netip.Addr, fe netip.AddrPort) (*client, error) {
	d := net.Dialer{Timeout: waitFor}
	if src.IsValid() {
		d.LocalAddr = net.TCPAddrFromAddrPort(netip.AddrPortFrom(src, 0))
	}
	nc, err := d.Dial("tcp", fe.String())
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", fe, err)
	}
	c := &client{TCPConn: nc.(*net.TCPConn), r: bufio.NewReader(nc)}
	c.SetDeadline(time.Now().Add(waitFor))
	line, err := c.r.ReadString('\n')
	if err != nil {
		c.Close()
		return nil, fmt.Errorf("read backend name via %s: %w", fe, err)
	}
	c.SetDeadline(time.Time{})
	c.backend = strings.TrimSuffix(line, "\n")
	return c, nil
}

// echo sends msg and expects it back.
func (c *client) echo(t *testing.T, msg string) {
	t.Helper()
	if err := c.tryEcho(msg); err != nil {
		t.Fatal(err)
	}
}

func (c *client) tryEcho(msg string) error {
	c.SetDeadline(time.Now().Add(waitFor))
	defer c.SetDeadline(time.Time{})
	if _, err := io.WriteString(c, msg); err != nil {
		return fmt.Errorf("write: %w", err)
	}
	buf := make([]byte, len(msg))
	if _, err := io.ReadFull(c.r, buf); err != nil {
		return fmt.Errorf("read echo: %w", err)
	}
	if string(buf) != msg {
		return fmt.Errorf("echo = %q, want %q", buf, msg)
	}
	return nil
}

// readErr reads until an error, within d, and returns it.
func (c *client) readErr(d time.Duration) error {
	c.SetReadDeadline(time.Now().Add(d))
	_, err := io.Copy(io.Discard, c.r)
	if err == nil {
		return io.EOF
	}
	return err
}

func isReset(err error) bool { return errors.Is(err, syscall.ECONNRESET) }

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// newProxy returns a proxy closed at the end of the test.
func newProxy(t *testing.T) *Proxy {
	t.Helper()
	p := New(testOptions())
	t.Cleanup(func() {
		if err := p.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return p
}

// apply applies cfg and fails the test on any error.
func apply(t *testing.T, p *Proxy, cfg *dataplane.Config) {
	t.Helper()
	st, err := p.Apply(context.Background(), cfg)
	if err != nil {
		t.Fatalf("Apply: %v", err)
	}
	if len(st.Errors) != 0 {
		t.Fatalf("Apply: status errors %v", st.Errors)
	}
}

// tcpConfig is one TCP listener at fe with rule r.
func tcpConfig(fe netip.AddrPort, r dataplane.Rule) *dataplane.Config {
	if r.Name == "" {
		r.Name = "lb/rule"
	}
	return &dataplane.Config{Listeners: []dataplane.Listener{{
		Key: "lb/fe/tcp/" + fmt.Sprint(fe.Port()), Addr: fe, Protocol: dataplane.TCP, Rule: r,
	}}}
}

// eventually polls cond until it holds or waitFor passes.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitFor)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v", what, waitFor)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func srcIP(i int) netip.Addr {
	return netip.AddrFrom4([4]byte{127, 10, 150, byte(1 + i)})
}
