package proxy

import (
	"errors"
	"maps"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/paddock-lb/paddock/internal/maglev"
)

// tcpListener is a TCP frontend: an accept loop, a sweeper, and the
// connections it accepted.
type tcpListener struct {
	base
	ln *net.TCPListener // the goroutine path's socket
	// conns counts connections from accept to finish, for MaxConns.
	conns atomic.Int64
	// With event loops: the socket the loops accept from (not in Go's
	// poller, which would wake a thread for every connection) and its
	// token in the loops' sets.
	inLoops bool
	lfd     int
	loopTok int32
	// Connections held by event loops, counted without l.mu (which the
	// loops would contend for): in all, and by backend key
	// (*atomic.Int64).
	inLoop     atomic.Int64
	loopActive loopCounts
	gone       atomic.Bool // retired, for the loops

	mu      sync.Mutex
	flows   map[*tcpFlow]struct{} // on the goroutine path
	active  map[string]int        // flows by backend key
	retired bool                  // the socket is closed; done once no connection is left
	closing bool                  // the proxy is closing: no new flows
}

// startTCP serves ln on the goroutine path.
func (p *Proxy) startTCP(k lkey, name string, ln *net.TCPListener, s *snapshot) *tcpListener {
	l := &tcpListener{
		ln:     ln,
		flows:  make(map[*tcpFlow]struct{}),
		active: make(map[string]int),
	}
	l.init(p, k, name, s)
	p.wg.Go(l.acceptLoop)
	p.wg.Go(l.sweeper)
	return l
}

// startLoopTCP serves the listening socket fd in the event loops; it
// closes fd on failure.
func (p *Proxy) startLoopTCP(k lkey, name string, fd int, s *snapshot) (*tcpListener, error) {
	l := &tcpListener{
		inLoops: true,
		lfd:     fd,
		flows:   make(map[*tcpFlow]struct{}),
		active:  make(map[string]int),
	}
	l.init(p, k, name, s)
	if err := p.loops.addListener(l); err != nil {
		closeListener(fd)
		return nil, err
	}
	p.wg.Go(l.sweeper)
	return l, nil
}

// update swaps in s and sets or clears the drain deadline of every
// connection, depending on whether s still lists its backend.
func (l *tcpListener) update(s *snapshot) {
	now := time.Now()
	old := l.snap.Load()
	l.mu.Lock()
	l.snap.Store(s)
	for f := range l.flows {
		switch {
		case s.members[f.id]:
			f.drainAt = time.Time{}
		case f.drainAt.IsZero() && s.rule.DrainPeriod > 0:
			f.drainAt = now.Add(s.rule.DrainPeriod)
		}
	}
	l.mu.Unlock()
	notify(l.wake)
	if l.inLoops && l.p.ctx.Err() == nil { // closing: the loops reset theirs
		for id := range old.members {
			if !s.members[id] {
				// The event loops leave draining to the goroutine path.
				l.p.loops.handOverLeavers(l, s)
				break
			}
		}
	}
}

// retire closes the socket. The rule no longer lists any backend for the
// remaining connections, which are drained like removed backends'.
func (l *tcpListener) retire() {
	if l.inLoops {
		l.p.loops.removeListener(l) // and closes the socket
	} else {
		l.ln.Close()
	}
	old := l.snap.Load()
	r := old.rule
	r.Backends = nil
	l.mu.Lock()
	l.retired = true
	l.gone.Store(true)
	l.mu.Unlock()
	l.update(newSnapshot(r, nil, map[string]*maglev.Table{}, l.p.log))
}

func (l *tcpListener) acceptLoop() {
	var delay time.Duration
	for {
		c, err := l.ln.AcceptTCP()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			// Out of file descriptors and the like: back off as
			// net/http does, and retry.
			delay = min(max(2*delay, 5*time.Millisecond), time.Second)
			l.p.log.Warn("accept failed", "listener", l.key.String(), "err", err, "retry", delay)
			t := time.NewTimer(delay)
			select {
			case <-t.C:
			case <-l.p.ctx.Done():
				t.Stop()
				return
			}
			continue
		}
		delay = 0
		src := unmap(c.RemoteAddr().(*net.TCPAddr).AddrPort())
		dst := unmap(c.LocalAddr().(*net.TCPAddr).AddrPort())
		id, ok := l.admit(src, dst)
		if !ok {
			reset(c)
			continue
		}
		l.p.wg.Go(func() { l.serve(c, id) })
	}
}

// admit counts a new connection and picks its backend. It reports false
// if the connection is refused (no eligible backend) or dropped
// (MaxConns); the caller resets it. Admitted connections count in conns
// until they end.
func (l *tcpListener) admit(src, dst netip.AddrPort) (backendID, bool) {
	l.ctr.newFlows.Add(1)
	id, ok := l.snap.Load().pick(l.p.hasher, src, dst, maglev.ProtoTCP)
	if !ok {
		l.ctr.refused.Add(1)
		return id, false
	}
	if l.conns.Add(1) > int64(l.p.opts.MaxConns) {
		l.conns.Add(-1)
		l.ctr.dropped.Add(1)
		return id, false
	}
	return id, true
}

// serve connects client to backend id and copies client→backend; a second
// goroutine copies backend→client.
func (l *tcpListener) serve(client *net.TCPConn, id backendID) {
	d := net.Dialer{Timeout: l.p.opts.DialTimeout}
	if l.snap.Load().rule.IdleTimeout > 0 {
		// The idle timeout ends connections to a backend that vanished:
		// spare the four setsockopt calls of Go's default keep-alive.
		d.KeepAlive = -1
	}
	bc, err := d.DialTCP(l.p.ctx, "tcp", netip.AddrPort{}, id.addr)
	if err != nil {
		l.ctr.dialFailures.Add(1)
		reset(client)
		l.conns.Add(-1)
		return
	}
	f := &tcpFlow{l: l, id: id, client: client, backend: bc}
	f.act.init(f.client, f.backend)
	l.run(f, carried{}, false)
}

// carried is what an event loop hands over with a connection; index 0 is
// the client side, 1 the backend side.
type carried struct {
	pending [2][]byte // read from side i, not yet written to the other
	done    [2]bool   // side i's FIN was read and passed on
}

// run copies both directions of f, starting from c; fromLoop says an
// event loop hands f over.
func (l *tcpListener) run(f *tcpFlow, c carried, fromLoop bool) {
	if !l.register(f, fromLoop) {
		f.abort(true, nil)
		l.conns.Add(-1)
		return
	}
	l.p.wg.Go(func() { f.pipe(f.client, f.backend, &l.ctr.bytesOut, false, c.pending[1], c.done[1]) })
	f.pipe(f.backend, f.client, &l.ctr.bytesIn, true, c.pending[0], c.done[0])
}

// register adds f to the flows; fromLoop says an event loop counted it
// until now.
func (l *tcpListener) register(f *tcpFlow, fromLoop bool) bool {
	l.mu.Lock()
	// Counted in the flows before it leaves the loop's count, so that the
	// sweeper never sees it in neither.
	defer func() {
		if fromLoop {
			l.loopActive.of(f.id.key).Add(-1)
			l.inLoop.Add(-1)
		}
	}()
	if l.closing {
		l.mu.Unlock()
		return false
	}
	// The backend may have left the rule since it was picked.
	s := l.snap.Load()
	draining := !s.members[f.id] && s.rule.DrainPeriod > 0
	if draining {
		f.drainAt = time.Now().Add(s.rule.DrainPeriod)
	}
	l.flows[f] = struct{}{}
	l.active[f.id.key]++
	l.mu.Unlock()
	if draining {
		notify(l.wake)
	}
	return true
}

func (l *tcpListener) unregister(f *tcpFlow) {
	l.mu.Lock()
	delete(l.flows, f)
	l.dropActive(f.id.key)
	done := l.retired && len(l.flows) == 0 && l.inLoop.Load() == 0
	l.mu.Unlock()
	l.conns.Add(-1)
	if done {
		notify(l.wake)
	}
}

// loopStarted counts a connection an event loop holds.
func (l *tcpListener) loopStarted(id backendID) {
	l.inLoop.Add(1)
	l.loopActive.of(id.key).Add(1)
}

// loopEnded uncounts a connection an event loop held and closed.
func (l *tcpListener) loopEnded(id backendID) {
	l.loopActive.of(id.key).Add(-1)
	if l.inLoop.Add(-1) == 0 && l.gone.Load() {
		l.mu.Lock()
		done := l.retired && len(l.flows) == 0
		l.mu.Unlock()
		if done {
			notify(l.wake)
		}
	}
	l.conns.Add(-1)
}

// dropActive uncounts a flow to backend key; l.mu is held.
func (l *tcpListener) dropActive(key string) {
	if l.active[key]--; l.active[key] <= 0 {
		delete(l.active, key)
	}
}

// sweeper ends connections that idle out or whose drain period has passed.
// It wakes when the earliest such deadline may have come, when the
// configuration changes, and at least once per idle timeout so that new
// connections get a deadline.
func (l *tcpListener) sweeper() {
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	var (
		list   []*tcpFlow
		drains []time.Time
		last   *snapshot
	)
	for {
		s := l.snap.Load()
		// A new idle timeout invalidates every connection's next check.
		recheck := last == nil || s.rule.IdleTimeout != last.rule.IdleTimeout
		last = s
		l.mu.Lock()
		if l.retired && len(l.flows) == 0 && l.inLoop.Load() == 0 {
			l.mu.Unlock()
			return
		}
		list, drains = list[:0], drains[:0]
		for f := range l.flows {
			list = append(list, f)
			drains = append(drains, f.drainAt)
		}
		l.mu.Unlock()

		next := l.sweep(time.Now(), s, list, drains, recheck)
		clear(list) // do not pin finished flows
		if !l.wait(timer, next, sweepGranularity(s.rule.IdleTimeout)) {
			l.shutdown()
			return
		}
	}
}

// sweep acts on every due deadline and returns the next one.
func (l *tcpListener) sweep(now time.Time, s *snapshot, list []*tcpFlow, drains []time.Time, recheck bool) (next time.Time) {
	idle := s.rule.IdleTimeout
	if idle > 0 {
		next = now.Add(idle)
	}
	for i, f := range list {
		if d := drains[i]; !d.IsZero() {
			if !now.Before(d) {
				f.abort(true, &l.ctr.drained)
				continue
			}
			next = earliest(next, d)
		}
		switch f.state.Load() {
		case flowDead:
			// The client connection is held open but dead for one more
			// idle timeout.
			at := f.deadSince.Add(idle)
			if idle <= 0 || !now.Before(at) {
				f.abort(true, nil)
				continue
			}
			next = earliest(next, at)
		case flowOpen:
			if idle <= 0 {
				continue
			}
			if !recheck && now.Before(f.nextCheck) {
				next = earliest(next, f.nextCheck)
				continue
			}
			if quiet := f.act.quiet(now); quiet < idle {
				f.nextCheck = now.Add(idle - quiet)
				next = earliest(next, f.nextCheck)
				continue
			}
			l.ctr.idleTimeouts.Add(1)
			if s.rule.TCPReset {
				f.abort(true, nil)
				continue
			}
			if f.idleOut() {
				f.deadSince = now
				next = earliest(next, now.Add(idle))
			}
		}
	}
	return next
}

// shutdown resets every connection: the proxy is closing.
func (l *tcpListener) shutdown() {
	l.mu.Lock()
	l.closing = true
	list := make([]*tcpFlow, 0, len(l.flows))
	for f := range l.flows {
		list = append(list, f)
	}
	l.mu.Unlock()
	for _, f := range list {
		f.abort(true, nil)
	}
}

func (l *tcpListener) stats() keyedStats {
	st := l.ctr.stats(l.key, *l.name.Load())
	s := l.snap.Load()
	l.mu.Lock()
	active := maps.Clone(l.active)
	st.ActiveFlows = len(l.flows) + int(l.inLoop.Load())
	l.mu.Unlock()
	l.loopActive.addTo(active)
	st.Backends = backendStats(s, active)
	st.EligibleBackends = len(s.eligible)
	return st
}

// Flow states.
const (
	flowOpen   int32 = iota
	flowDead         // idled out without reset: backend closed, client held
	flowClosed       // both sockets closed
)

// tcpFlow is one proxied connection.
type tcpFlow struct {
	l       *tcpListener
	id      backendID
	client  *net.TCPConn
	backend *net.TCPConn
	act     activity
	state   atomic.Int32
	ended   atomic.Int32 // directions done copying

	drainAt time.Time // guarded by l.mu; zero: not draining

	// Owned by the sweeper.
	nextCheck time.Time // no need to look at the flow before this
	deadSince time.Time // when it idled out without reset
}

// pipe copies src to dst until EOF or error, then passes the end on. It
// first writes pending; done says an event loop has already passed src's
// FIN on.
func (f *tcpFlow) pipe(dst, src *net.TCPConn, ctr *atomic.Uint64, fromClient bool, pending []byte, done bool) {
	if done {
		if f.ended.Add(1) == 2 {
			f.finish()
		}
		return
	}
	var err error
	if len(pending) > 0 {
		var n int
		n, err = dst.Write(pending)
		ctr.Add(uint64(n))
	}
	if err == nil {
		err = f.act.pump(dst, src, fromClient, ctr)
	}
	switch {
	case f.state.Load() == flowDead:
		// Idled out: the backend side is gone. The client gets a RST as
		// soon as it sends anything, data or FIN.
		if fromClient {
			f.abort(true, nil)
		}
	case err == nil:
		// Half-close: pass the FIN on. If the other direction is done
		// too, finish closes both sockets, which sends it anyway.
		if f.ended.Load() == 0 {
			_ = dst.CloseWrite()
		}
	default:
		f.abort(true, nil) // a reset or error on one side resets the other
	}
	if f.ended.Add(1) == 2 {
		f.finish()
	}
}

// abort closes both sockets, with RST when reset, and counts the abort in
// ctr if not nil (before the peers can see it). It reports whether it did
// (false if the flow was already closed).
func (f *tcpFlow) abort(reset bool, ctr *atomic.Uint64) bool {
	if f.state.Swap(flowClosed) == flowClosed {
		return false
	}
	if ctr != nil {
		ctr.Add(1)
	}
	if reset {
		_ = f.client.SetLinger(0)
		_ = f.backend.SetLinger(0)
	}
	f.client.Close()
	f.backend.Close()
	return true
}

// idleOut ends an idle flow without reset: the backend connection is
// closed, the client's is kept, dead.
func (f *tcpFlow) idleOut() bool {
	if !f.state.CompareAndSwap(flowOpen, flowDead) {
		return false
	}
	f.backend.Close()
	return true
}

// finish runs once both directions are done.
func (f *tcpFlow) finish() {
	f.abort(false, nil)
	f.l.unregister(f)
}

// reset closes c with a RST.
func reset(c *net.TCPConn) {
	_ = c.SetLinger(0)
	_ = c.Close()
}

func unmap(ap netip.AddrPort) netip.AddrPort {
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
}
