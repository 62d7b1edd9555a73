// Package proxy is Paddock's portable userspace data plane: it implements
// dataplane.Programmer with ordinary sockets, so it runs anywhere without
// privileges, at the cost of terminating TCP (backends see the proxy's
// address as the source, not the client's).
//
// # Configuration
//
// Listeners are identified by (address, protocol). Apply keeps the socket of
// every listener that remains (no accept stall, no dropped datagrams), opens
// new ones (a bind failure is reported in Status.Errors under the listener's
// Key and does not stop the others) and closes removed ones. What a listener
// does with new flows is an immutable snapshot (the rule, and a Maglev table
// over its eligible backends) behind an atomic.Pointer: Apply builds the new
// snapshot and swaps it in; flows in progress are not affected.
//
// Eligible backends are the Healthy ones; when none is and the rule has
// NoHealthyAllowAll, all of them. With no eligible backend, new TCP
// connections are accepted and reset at once (the client sees ECONNRESET)
// and UDP datagrams that would start a flow are dropped.
//
// A flow's backend is chosen by Maglev on the rule's flow hash (5-, 3- or
// 2-tuple), under a per-process random seed.
//
// # TCP
//
// On Linux, new connections are served by event loops (see
// evloop_linux.go): goroutines that each wait in epoll_wait themselves,
// accept, connect to the backend without blocking and relay small
// exchanges, with no goroutine parked or woken per connection. A loop
// hands a connection over to the goroutine path described next when the
// connection has been idle for a second (a quarter of the rule's idle
// timeout if that is shorter), carries bulk data, has a peer that does
// not keep up, or has a backend that left the rule; what the loop read
// and could not write goes with it. Idle timeouts and drains are thus
// the goroutine path's alone. Elsewhere, and with Options.NoEventLoops,
// the goroutine path also accepts and dials.
//
// On the goroutine path each connection is copied both ways by one
// goroutine per direction. On
// Linux the bytes never enter the proxy: the copy loop waits for the
// source to be readable through Go's poller while holding nothing, learns
// how many bytes are queued (one recv with MSG_PEEK|MSG_TRUNC, which
// copies nothing and reports 0 at EOF), and moves exactly those with
// splice(2) (TCPConn.ReadFrom of an io.LimitedReader) through a pipe that
// the net package lends from its pool for the length of the move. So an
// idle connection costs its two sockets and two parked goroutines, no
// pipe; no splice waits on an empty socket; and the byte counters are
// updated after each move, with no deadline or timer in the data path.
// Elsewhere the loop reads into a buffer and writes it.
//
// A FIN from one side is passed on as a FIN (CloseWrite) to the other
// while the other direction keeps flowing; when both directions are done
// the sockets are closed (which sends the second FIN). An error or RST on
// one side resets both.
//
// Sockets get no more system calls than they need: accepted sockets
// inherit TCP keep-alive from the listening socket (on Linux), and
// connections to backends do without it when the rule has an idle
// timeout, which ends them anyway.
//
// Established connections stay on their backend when it turns unhealthy and
// across unrelated configuration changes. They end only when their backend
// leaves the rule (identified by rule Name, backend Key and address): with
// DrainPeriod > 0 they are reset (both sides) once the period has passed;
// with 0 they are kept until they close or idle out. The same applies to
// the connections of a listener that is removed.
//
// Idle timeout: a connection that carries no data in either direction for
// the rule's IdleTimeout is ended. On Linux, idleness is read from the
// kernel (TCP_INFO tcpi_last_data_recv of both sockets) by one sweeper
// goroutine per listener, which checks each connection once per timeout
// while it is active: there is no per-read work, no timer per connection,
// and splice is untouched. Elsewhere, where the standard library does not
// splice between TCP sockets anyway, the copy loop stamps a last-activity
// time on each read.
//
// What the endpoints observe when a connection idles out:
//
//   - With TCPReset, both the client and the backend receive a RST, as with
//     Azure's "TCP reset on idle".
//   - Without it, Azure silently forgets the flow; a proxy cannot be silent
//     on both sides, since it must release the backend connection. Paddock
//     closes the backend connection (the backend sees a FIN) and keeps the
//     client connection open but dead: nothing more is relayed and the
//     client observes silence, as it would behind Azure. When the client
//     next sends data or a FIN, it receives a RST; if it stays quiet for one
//     more IdleTimeout, it receives a RST then. A FIN is never sent to the
//     client, so a stream framed by connection close is never mistaken for
//     a complete one.
//
// # UDP
//
// Each UDP listener has one socket. A flow is keyed by the client's address
// and port; its first datagram picks a backend and opens a connected UDP
// socket to it, which carries the flow's datagrams for its whole life;
// replies are relayed to the client from the listener socket. A flow expires
// after the rule's IdleTimeout without datagrams in either direction (4
// minutes when unset). A flow whose backend is no longer eligible (down, or
// gone from the rule) moves to an eligible backend with its next datagram,
// as Azure moves UDP flows off members that are down. Each listener holds at
// most Options.MaxUDPFlows flows; datagrams that would start another are
// dropped.
//
// On Linux each UDP listener belongs to one event loop, which owns its
// socket and its flows' sockets and relays both ways without a goroutine
// per flow (see udploop_linux.go); elsewhere, and with
// Options.NoEventLoops, a read loop per listener and a goroutine per flow
// do.
//
// # Goroutines
//
// Every goroutine belongs to the Proxy and ends when Close returns: the
// event loops (started with the first listener); per TCP listener a
// sweeper, and an accept loop without event loops; two per connection on
// the goroutine path (bounded by Options.MaxConns); without event loops,
// per UDP listener a read loop and a sweeper, and one per flow (bounded by
// Options.MaxUDPFlows).
package proxy

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/paddock-lb/paddock/internal/dataplane"
	"github.com/paddock-lb/paddock/internal/maglev"
)

// Defaults for Options.
const (
	DefaultDialTimeout    = 10 * time.Second
	DefaultMaxConns       = 1 << 16
	DefaultMaxUDPFlows    = 1 << 16
	DefaultUDPIdleTimeout = 4 * time.Minute
)

// ErrClosed is returned by Apply after Close.
var ErrClosed = errors.New("proxy closed")

// ErrDuplicateListener is reported for a listener whose address and
// protocol another listener of the same configuration already uses.
var ErrDuplicateListener = errors.New("duplicate listener address and protocol")

// Options configure a Proxy. The zero value is usable.
type Options struct {
	// Logger receives listener lifecycle events; nil discards them.
	Logger *slog.Logger
	// DialTimeout bounds connecting to a backend; 0 means
	// DefaultDialTimeout.
	DialTimeout time.Duration
	// MaxConns caps the TCP connections of one listener; 0 means
	// DefaultMaxConns. Connections beyond it are reset.
	MaxConns int
	// MaxUDPFlows caps the UDP flows of one listener; 0 means
	// DefaultMaxUDPFlows.
	MaxUDPFlows int
	// NoEventLoops serves every TCP connection on the goroutine path,
	// also on Linux (see the package comment).
	NoEventLoops bool
	// EventLoops is the number of event loops; 0 means one per CPU the
	// process may use (GOMAXPROCS when the first loop starts; at most 8).
	EventLoops int
}

// Proxy is the userspace data plane. Its methods are safe for concurrent
// use.
type Proxy struct {
	log    *slog.Logger
	opts   Options
	hasher maglev.FlowHasher
	bufs   sync.Pool // *[]byte of maxDatagram bytes, for UDP

	ctx    context.Context // canceled by Close; ends every goroutine
	cancel context.CancelFunc
	wg     sync.WaitGroup // every goroutine of the proxy

	mu        sync.Mutex
	listeners map[lkey]frontend
	closed    bool
	loops     *loopSet // started with the first listener; nil without
	loopsErr  error    // why there are no loops
}

var _ dataplane.Programmer = (*Proxy)(nil)

// lkey identifies a listener socket.
type lkey struct {
	addr  netip.AddrPort
	proto dataplane.Protocol
}

func (k lkey) String() string { return k.proto.String() + " " + k.addr.String() }

// frontend is a TCP or UDP listener.
type frontend interface {
	// update swaps in a new snapshot.
	update(s *snapshot)
	// retire closes the socket; flows end according to their policy.
	retire()
	stats() keyedStats
	setName(string)
	current() *snapshot
}

// New returns a Proxy with no listeners.
func New(opts Options) *Proxy {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.DialTimeout <= 0 {
		opts.DialTimeout = DefaultDialTimeout
	}
	if opts.MaxConns <= 0 {
		opts.MaxConns = DefaultMaxConns
	}
	if opts.MaxUDPFlows <= 0 {
		opts.MaxUDPFlows = DefaultMaxUDPFlows
	}
	p := &Proxy{
		log:       opts.Logger,
		opts:      opts,
		hasher:    maglev.NewFlowHasher(),
		listeners: make(map[lkey]frontend),
	}
	p.bufs.New = func() any {
		b := make([]byte, maxDatagram)
		return &b
	}
	p.ctx, p.cancel = context.WithCancel(context.Background())
	return p
}

// Apply replaces the running configuration with cfg. It returns once every
// listener of cfg that could be bound serves new flows with its new rule.
func (p *Proxy) Apply(ctx context.Context, cfg *dataplane.Config) (dataplane.Status, error) {
	if err := ctx.Err(); err != nil {
		return dataplane.Status{}, fmt.Errorf("apply: %w", err)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return dataplane.Status{}, fmt.Errorf("apply: %w", ErrClosed)
	}
	errs := make(map[string]error)
	want := make(map[lkey]*dataplane.Listener, len(cfg.Listeners))
	var order []lkey
	for i := range cfg.Listeners {
		ls := &cfg.Listeners[i]
		k := lkey{netip.AddrPortFrom(ls.Addr.Addr().Unmap(), ls.Addr.Port()), ls.Protocol}
		switch {
		case !ls.Addr.IsValid():
			errs[ls.Key] = fmt.Errorf("listener %s: invalid address", ls.Key)
			continue
		case ls.Protocol != dataplane.TCP && ls.Protocol != dataplane.UDP:
			errs[ls.Key] = fmt.Errorf("listener %s: unknown protocol %d", ls.Key, ls.Protocol)
			continue
		case want[k] != nil:
			errs[ls.Key] = fmt.Errorf("listener %s (%s): %w with %s", ls.Key, k, ErrDuplicateListener, want[k].Key)
			continue
		}
		want[k] = ls
		order = append(order, k)
	}

	for k, l := range p.listeners {
		if want[k] == nil {
			l.retire()
			delete(p.listeners, k)
			p.log.Info("listener closed", "listener", k.String())
		}
	}
	tables := make(map[string]*maglev.Table)
	for _, k := range order {
		ls := want[k]
		l, ok := p.listeners[k]
		var prev *snapshot
		if ok {
			prev = l.current()
		}
		snap := newSnapshot(ls.Rule, prev, tables, p.log)
		if ok {
			l.setName(ls.Key)
			l.update(snap)
			continue
		}
		l, err := p.listen(k, ls.Key, snap)
		if err != nil {
			errs[ls.Key] = err
			continue
		}
		p.listeners[k] = l
		p.log.Info("listener opened", "listener", k.String(), "key", ls.Key)
	}
	if len(errs) == 0 {
		errs = nil
	}
	return dataplane.Status{Errors: errs}, nil
}

func (p *Proxy) listen(k lkey, name string, s *snapshot) (frontend, error) {
	network := "4"
	if k.addr.Addr().Is6() {
		network = "6"
	}
	var lc net.ListenConfig
	switch k.proto {
	case dataplane.TCP:
		if ls := p.eventLoops(); ls != nil {
			fd, err := listenTCP(k.addr)
			if err != nil {
				return nil, fmt.Errorf("open listener: %w", err)
			}
			l, err := p.startLoopTCP(k, name, fd, s)
			if err == nil {
				return l, nil
			}
			p.log.Warn("listener served without event loops", "listener", k.String(), "err", err)
		}
		lc := tcpListenConfig()
		ln, err := lc.Listen(p.ctx, "tcp"+network, k.addr.String())
		if err != nil {
			return nil, fmt.Errorf("open listener: %w", err)
		}
		return p.startTCP(k, name, ln.(*net.TCPListener), s), nil
	default:
		if ls := p.eventLoops(); ls != nil {
			fd, err := listenUDP(k.addr)
			if err != nil {
				return nil, fmt.Errorf("open listener: %w", err)
			}
			l, err := p.startLoopUDP(k, name, fd, s)
			if err == nil {
				return l, nil
			}
			p.log.Warn("listener served without event loops", "listener", k.String(), "err", err)
		}
		pc, err := lc.ListenPacket(p.ctx, "udp"+network, k.addr.String())
		if err != nil {
			return nil, fmt.Errorf("open listener: %w", err)
		}
		return p.startUDP(k, name, pc.(*net.UDPConn), s), nil
	}
}

// Close stops every listener and flow (connections are reset) and waits
// for all goroutines of the proxy to return.
func (p *Proxy) Close() error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil
	}
	p.closed = true
	ls := p.listeners
	p.listeners = nil
	loops := p.loops
	p.mu.Unlock()

	p.cancel()
	for _, l := range ls {
		l.retire()
	}
	if loops != nil {
		// After the loops have stopped, nothing adds to p.wg.
		loops.close()
	}
	p.wg.Wait()
	return nil
}

// eventLoops returns the proxy's event loops, starting them on first use;
// nil if there are none (Options.NoEventLoops, or not Linux). p.mu is
// held.
func (p *Proxy) eventLoops() *loopSet {
	if p.loops != nil || p.loopsErr != nil {
		return p.loops
	}
	if p.opts.NoEventLoops {
		p.loopsErr = errors.New("disabled")
		return nil
	}
	p.loops, p.loopsErr = startLoops(p)
	if p.loopsErr != nil {
		p.log.Warn("TCP served without event loops", "err", p.loopsErr)
	}
	return p.loops
}

// backendID identifies a backend of a rule across configurations: a flow
// stays on its backend while the rule with this Name still lists this key
// at this address.
type backendID struct {
	rule string
	key  string
	addr netip.AddrPort
}

// snapshot is what a listener does with new flows. It is immutable.
type snapshot struct {
	rule     dataplane.Rule
	table    *maglev.Table
	tableKey string             // the eligible keys, joined by NUL
	eligible []backendID        // indexed by table lookups
	isElig   map[backendID]bool // eligible, as a set
	members  map[backendID]bool // every backend of the rule
	healthy  map[string]bool    // by backend key, for stats
}

// newSnapshot compiles a rule. Building a Maglev table takes milliseconds,
// so tables are reused: the previous snapshot's when the eligible keys are
// the same, and within one Apply, by key list (tables), so that listeners
// sharing a pool share a table.
func newSnapshot(r dataplane.Rule, prev *snapshot, tables map[string]*maglev.Table, log *slog.Logger) *snapshot {
	s := &snapshot{
		rule:    r,
		isElig:  make(map[backendID]bool),
		members: make(map[backendID]bool, len(r.Backends)),
		healthy: make(map[string]bool, len(r.Backends)),
	}
	s.rule.Backends = slices.Clone(r.Backends)
	var all, healthy []backendID
	seen := make(map[string]bool, len(r.Backends))
	for _, b := range r.Backends {
		if !b.Addr.IsValid() || b.Addr.Port() == 0 {
			log.Warn("backend skipped: invalid address", "rule", r.Name, "backend", b.Key, "addr", b.Addr)
			continue
		}
		if seen[b.Key] {
			continue
		}
		seen[b.Key] = true
		id := backendID{rule: r.Name, key: b.Key, addr: b.Addr}
		s.members[id] = true
		s.healthy[b.Key] = b.Healthy
		all = append(all, id)
		if b.Healthy {
			healthy = append(healthy, id)
		}
	}
	s.eligible = healthy
	if len(healthy) == 0 && r.NoHealthyAllowAll {
		s.eligible = all
	}
	keys := make([]string, len(s.eligible))
	for i, id := range s.eligible {
		keys[i] = id.key
		s.isElig[id] = true
	}
	s.tableKey = strings.Join(keys, "\x00")
	switch t, ok := tables[s.tableKey]; {
	case ok:
		s.table = t
	case prev != nil && prev.tableKey == s.tableKey:
		s.table = prev.table
	default:
		s.table = maglev.New(keys, maglev.SizeFor(len(keys)))
	}
	tables[s.tableKey] = s.table
	return s
}

// pick chooses the backend of a new flow.
func (s *snapshot) pick(h maglev.FlowHasher, src, dst netip.AddrPort, proto uint8) (backendID, bool) {
	var sum uint64
	switch s.rule.Distribution {
	case dataplane.TwoTuple:
		sum = h.TwoTuple(src.Addr(), dst.Addr())
	case dataplane.ThreeTuple:
		sum = h.ThreeTuple(src.Addr(), dst.Addr(), proto)
	default:
		sum = h.FiveTuple(src, dst, proto)
	}
	i := s.table.Lookup(sum)
	if i < 0 {
		return backendID{}, false
	}
	return s.eligible[i], true
}

// counters are a listener's metrics.
type counters struct {
	bytesIn, bytesOut     atomic.Uint64 // client→backend, backend→client
	packetsIn, packetsOut atomic.Uint64 // UDP datagrams
	newFlows              atomic.Uint64
	refused               atomic.Uint64
	dropped               atomic.Uint64
	dialFailures          atomic.Uint64
	idleTimeouts          atomic.Uint64
	drained               atomic.Uint64
}

// base is what TCP and UDP listeners share.
type base struct {
	p    *Proxy
	key  lkey
	name atomic.Pointer[string]
	snap atomic.Pointer[snapshot]
	ctr  counters
	wake chan struct{} // to the sweeper
}

func (b *base) init(p *Proxy, k lkey, name string, s *snapshot) {
	b.p, b.key = p, k
	b.wake = make(chan struct{}, 1)
	b.setName(name)
	b.snap.Store(s)
}

func (b *base) setName(n string) { b.name.Store(&n) }

func (b *base) current() *snapshot { return b.snap.Load() }

func notify(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

// sweepGranularity is how finely a sweeper schedules its wake-ups for an
// idle timeout: 1/64 of it, between 5 ms and 1 s.
func sweepGranularity(idle time.Duration) time.Duration {
	return min(max(idle/64, 5*time.Millisecond), time.Second)
}

// wait blocks until next (if not zero), a wake-up or the end of the proxy.
// It reports false when the proxy is closing.
func (b *base) wait(timer *time.Timer, next time.Time, gran time.Duration) bool {
	if !next.IsZero() {
		timer.Reset(max(time.Until(next), gran))
	}
	defer timer.Stop()
	select {
	case <-b.p.ctx.Done():
		return false
	case <-b.wake:
	case <-timer.C:
	}
	return true
}

func earliest(a, b time.Time) time.Time {
	if a.IsZero() || (!b.IsZero() && b.Before(a)) {
		return b
	}
	return a
}
