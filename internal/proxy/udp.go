package proxy

import (
	"errors"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/paddock-lb/paddock/internal/maglev"
)

// maxDatagram is the largest UDP payload relayed.
const maxDatagram = 64 << 10

// udpListener is a UDP frontend: one socket, a read loop, a sweeper and
// the flows.
type udpListener struct {
	base
	pc *net.UDPConn // the goroutine path's socket

	// With an event loop: the loop that owns the socket (lfd, its token
	// tok) and the flows; lflows and nextScan are the loop's alone, the
	// counts are read by stats.
	lp         *evLoop
	lfd        int
	tok        int32
	lflows     map[netip.AddrPort]*uflow
	nextScan   time.Time
	nflows     atomic.Int64
	loopActive loopCounts

	mu      sync.Mutex
	flows   map[netip.AddrPort]*udpFlow // by client address
	active  map[string]int              // flows by backend key
	retired bool
}

// udpFlow is the datagrams of one client address, relayed to one backend
// over a connected socket.
type udpFlow struct {
	l       *udpListener
	client  netip.AddrPort
	id      backendID
	conn    *net.UDPConn
	checked *snapshot    // snapshot that id was last found eligible in; guarded by l.mu
	last    atomic.Int64 // unix ns of the last datagram, either way
	closed  atomic.Bool
}

func (p *Proxy) startUDP(k lkey, name string, pc *net.UDPConn, s *snapshot) *udpListener {
	l := &udpListener{
		pc:     pc,
		flows:  make(map[netip.AddrPort]*udpFlow),
		active: make(map[string]int),
	}
	l.init(p, k, name, s)
	p.wg.Go(l.readLoop)
	p.wg.Go(l.sweeper)
	return l
}

// startLoopUDP serves the UDP socket fd in one of the event loops; it
// closes fd on failure.
func (p *Proxy) startLoopUDP(k lkey, name string, fd int, s *snapshot) (*udpListener, error) {
	l := &udpListener{lfd: fd, flows: make(map[netip.AddrPort]*udpFlow), active: make(map[string]int)}
	l.init(p, k, name, s)
	l.lp = p.loops.owner()
	if err := l.lp.addUDP(l); err != nil {
		closeListener(fd)
		return nil, err
	}
	return l, nil
}

// update swaps in s. Flows are checked against it lazily, on their next
// datagram from the client.
func (l *udpListener) update(s *snapshot) {
	l.snap.Store(s)
	notify(l.wake)
}

// retire closes the socket and every flow: without the listener socket
// there is no path back to the clients.
func (l *udpListener) retire() {
	if l.lp != nil {
		l.lp.removeUDP(l)
		return
	}
	l.pc.Close()
	l.mu.Lock()
	l.retired = true
	flows := l.flows
	l.flows = make(map[netip.AddrPort]*udpFlow)
	clear(l.active)
	l.mu.Unlock()
	for _, f := range flows {
		f.close()
	}
	notify(l.wake)
}

func (l *udpListener) readLoop() {
	buf := make([]byte, maxDatagram)
	var delay time.Duration
	for {
		n, src, err := l.pc.ReadFromUDPAddrPort(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			delay = min(max(2*delay, time.Millisecond), 100*time.Millisecond)
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
		l.ctr.packetsIn.Add(1)
		l.ctr.bytesIn.Add(uint64(n))
		f := l.flowFor(unmap(src))
		if f == nil {
			continue
		}
		f.touch()
		_, _ = f.conn.Write(buf[:n]) // like the network, drop on error
	}
}

// flowFor returns the flow of src, creating it, or moving it off a backend
// that is no longer eligible. It returns nil when the datagram must be
// dropped.
func (l *udpListener) flowFor(src netip.AddrPort) *udpFlow {
	s := l.snap.Load()
	l.mu.Lock()
	old := l.flows[src]
	if old != nil {
		if old.checked == s || s.isElig[old.id] {
			old.checked = s
			l.mu.Unlock()
			return old
		}
		l.removeLocked(old)
	}
	n := len(l.flows)
	l.mu.Unlock()
	if old != nil {
		old.close()
	}
	id, ok := l.admit(s, src, n)
	if !ok {
		return nil
	}
	conn, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(id.addr))
	if err != nil {
		l.ctr.dialFailures.Add(1)
		return nil
	}
	f := &udpFlow{l: l, client: src, id: id, conn: conn, checked: s}
	f.touch()
	l.mu.Lock()
	if l.retired {
		l.mu.Unlock()
		conn.Close()
		return nil
	}
	l.flows[src] = f
	l.active[id.key]++
	l.mu.Unlock()
	l.ctr.newFlows.Add(1)
	l.p.wg.Go(f.replyLoop)
	return f
}

// admit picks the backend of a new flow from src, the listener holding n
// flows, or counts why the flow is turned away: the listener is full
// (dropped) or no backend is eligible (refused).
func (l *udpListener) admit(s *snapshot, src netip.AddrPort, n int) (backendID, bool) {
	if n >= l.p.opts.MaxUDPFlows {
		l.ctr.dropped.Add(1)
		return backendID{}, false
	}
	id, ok := s.pick(l.p.hasher, src, l.key.addr, maglev.ProtoUDP)
	if !ok {
		l.ctr.refused.Add(1)
	}
	return id, ok
}

// removeLocked forgets f; the caller closes it. Called with l.mu held.
func (l *udpListener) removeLocked(f *udpFlow) {
	if l.flows[f.client] != f {
		return
	}
	delete(l.flows, f.client)
	if l.active[f.id.key]--; l.active[f.id.key] <= 0 {
		delete(l.active, f.id.key)
	}
}

func (l *udpListener) udpIdle(s *snapshot) time.Duration {
	if s.rule.IdleTimeout > 0 {
		return s.rule.IdleTimeout
	}
	return DefaultUDPIdleTimeout
}

// sweeper expires flows idle for the rule's idle timeout.
func (l *udpListener) sweeper() {
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	var expired []*udpFlow
	for {
		idle := l.udpIdle(l.snap.Load())
		now := time.Now()
		next := now.Add(idle)
		l.mu.Lock()
		if l.retired {
			l.mu.Unlock()
			return
		}
		for _, f := range l.flows {
			at := time.Unix(0, f.last.Load()).Add(idle)
			if now.Before(at) {
				next = earliest(next, at)
				continue
			}
			l.removeLocked(f)
			l.ctr.idleTimeouts.Add(1)
			expired = append(expired, f)
		}
		l.mu.Unlock()
		for _, f := range expired {
			f.close()
		}
		clear(expired)
		expired = expired[:0]
		if !l.wait(timer, next, sweepGranularity(idle)) {
			l.retire()
			return
		}
	}
}

func (l *udpListener) stats() keyedStats {
	st := l.ctr.stats(l.key, *l.name.Load())
	s := l.snap.Load()
	st.EligibleBackends = len(s.eligible)
	if l.lp != nil {
		st.ActiveFlows = int(l.nflows.Load())
		active := make(map[string]int)
		l.loopActive.addTo(active)
		st.Backends = backendStats(s, active)
		return st
	}
	l.mu.Lock()
	st.ActiveFlows = len(l.flows)
	st.Backends = backendStats(s, l.active)
	l.mu.Unlock()
	return st
}

func (f *udpFlow) touch() { f.last.Store(time.Now().UnixNano()) }

func (f *udpFlow) close() {
	if !f.closed.Swap(true) {
		f.conn.Close()
	}
}

// replyLoop relays the backend's datagrams to the client until the flow
// is closed.
func (f *udpFlow) replyLoop() {
	r, err := newDatagramReader(f.conn, &f.l.p.bufs)
	if err != nil {
		f.expire()
		return
	}
	for {
		b, err := r.read()
		switch {
		case err == nil:
		case f.closed.Load() || errors.Is(err, net.ErrClosed):
			return
		case errors.Is(err, syscall.ECONNREFUSED):
			continue // ICMP port unreachable from the backend
		default:
			f.expire()
			return
		}
		f.touch()
		if _, err := f.l.pc.WriteToUDPAddrPort(b, f.client); err == nil {
			f.l.ctr.packetsOut.Add(1)
			f.l.ctr.bytesOut.Add(uint64(len(b)))
		}
		r.release()
	}
}

// expire removes and closes f.
func (f *udpFlow) expire() {
	f.l.mu.Lock()
	f.l.removeLocked(f)
	f.l.mu.Unlock()
	f.close()
}
