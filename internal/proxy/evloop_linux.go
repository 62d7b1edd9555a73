package proxy

import (
	"errors"
	"fmt"
	"maps"
	"net"
	"net/netip"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Event loops: the Linux connection path for short connections.
//
// Each loop is a goroutine that owns an edge-triggered epoll set and waits
// in epoll_wait itself, with a raw system call that keeps its P: a
// connection's events are handled where they are reported, and no
// goroutine is parked or woken per connection. Every listening socket is
// in every loop's set (EPOLLEXCLUSIVE: the kernel wakes one loop per
// incoming connection). A loop accepts, picks the backend, connects to it
// without blocking and relays what each side sends through one buffer per
// loop, passing FINs on as the goroutine path does.
//
// A loop keeps a connection while it is busy with small exchanges. It
// hands the connection over to the goroutine path (two goroutines,
// splice, idle timeout, drain) once it has been idle for handoffIdle (a
// quarter of the rule's idle timeout if that is shorter), once a read
// fills the buffer (bulk data: splice moves it without copying), once a
// write cannot complete (the loop never queues data), and when its backend
// leaves the rule. The hand-over carries the bytes not yet written and the
// directions already finished. So idle timeouts and drains are the
// goroutine path's alone: TCP_INFO tells it how long a connection has
// been idle, whichever path it was on.
//
// The loops' Ps are extra: GOMAXPROCS is raised by the number of loops
// while they run, so a loop waiting in epoll_wait never takes a P from the
// rest of the program. A loop wakes at least every maxWait to yield its P
// (so sysmon has no reason to preempt it) and to hand over connections.

const (
	// loopBuf is a loop's relay buffer; a read that fills it is bulk.
	loopBuf = 64 << 10
	// handoffIdle is how long a connection may stay idle in a loop.
	handoffIdle = time.Second
	// maxWait bounds one epoll_wait.
	maxWait = 10 * time.Millisecond
	// acceptBatch bounds the connections accepted per wake-up.
	acceptBatch = 32
	// maxLoops bounds the number of loops.
	maxLoops = 8
)

// Kinds of epoll event, in the low kindBits bits of the event's Pad field;
// the rest holds a generation where Fd is a slot.
const (
	evClient    = 0 // a connection's client side (index 0); Fd is its slot
	evBackend   = 1 // a connection's backend side (index 1); Fd is its slot
	evWake      = 2 // the loop's eventfd
	evListen    = 3 // a listening socket; Fd is its token
	evUDPListen = 4 // a UDP listener's socket; Fd is its token
	evUDPFlow   = 5 // a UDP flow's socket; Fd is its slot

	kindBits = 3
	kindMask = 1<<kindBits - 1
	genMask  = 1<<(31-kindBits) - 1
)

var (
	procsMu    sync.Mutex // serializes GOMAXPROCS adjustments by loop sets
	extraProcs int        // Ps added for the loops of every running set
)

func adjustProcs(delta int) {
	procsMu.Lock()
	defer procsMu.Unlock()
	extraProcs += delta
	runtime.GOMAXPROCS(max(1, runtime.GOMAXPROCS(0)+delta))
}

// baseProcs is GOMAXPROCS without the Ps added for loops.
func baseProcs() int {
	procsMu.Lock()
	defer procsMu.Unlock()
	return max(1, runtime.GOMAXPROCS(0)-extraProcs)
}

// loopSet is a Proxy's event loops.
type loopSet struct {
	p     *Proxy
	loops []*evLoop
	wg    sync.WaitGroup

	mu   sync.Mutex // serializes listener changes
	next int32
	lns  atomic.Pointer[map[int32]*tcpListener] // copied on write

	nextUDP atomic.Uint32 // for owner
}

// startLoops starts Options.EventLoops loops, by default one per CPU the
// process may use (GOMAXPROCS, which follows a container's CPU limit; at
// most maxLoops).
func startLoops(p *Proxy) (*loopSet, error) {
	n := p.opts.EventLoops
	if n <= 0 {
		n = min(baseProcs(), maxLoops)
	}
	s := &loopSet{p: p}
	s.lns.Store(&map[int32]*tcpListener{})
	for range n {
		lp, err := newLoop(s)
		if err != nil {
			for _, lp := range s.loops {
				lp.release()
			}
			return nil, err
		}
		s.loops = append(s.loops, lp)
	}
	adjustProcs(n)
	for _, lp := range s.loops {
		s.wg.Go(lp.run)
	}
	return s, nil
}

// close stops the loops; each resets the connections it holds.
func (s *loopSet) close() {
	for _, lp := range s.loops {
		lp.quit.Store(true)
		lp.wakeUp()
	}
	s.wg.Wait()
	for _, lp := range s.loops {
		lp.release()
	}
	adjustProcs(-len(s.loops))
}

// listenTCP opens a non-blocking listening socket at addr the way the net
// package would (SO_REUSEADDR, IPV6_V6ONLY for IPv6, the system's
// backlog), with Go's default keep-alive for accepted connections, but
// outside Go's poller. Errors read as the net package's.
func listenTCP(addr netip.AddrPort) (int, error) {
	var (
		network, family = "tcp6", unix.AF_INET6
		sa              unix.Sockaddr
	)
	if addr.Addr().Is4() {
		network, family = "tcp4", unix.AF_INET
		sa = &unix.SockaddrInet4{Port: int(addr.Port()), Addr: addr.Addr().As4()}
	} else {
		sa = &unix.SockaddrInet6{Port: int(addr.Port()), Addr: addr.Addr().As16()}
	}
	fail := func(op string, err error) error {
		return &net.OpError{Op: "listen", Net: network, Addr: net.TCPAddrFromAddrPort(addr), Err: os.NewSyscallError(op, err)}
	}
	fd, err := unix.Socket(family, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return -1, fail("socket", err)
	}
	err = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEADDR, 1)
	if err == nil && family == unix.AF_INET6 {
		err = unix.SetsockoptInt(fd, unix.IPPROTO_IPV6, unix.IPV6_V6ONLY, 1)
	}
	if err == nil {
		err = setListenerKeepAlive(fd)
	}
	if err != nil {
		unix.Close(fd)
		return -1, fail("setsockopt", err)
	}
	if err := unix.Bind(fd, sa); err != nil {
		unix.Close(fd)
		return -1, fail("bind", err)
	}
	if err := unix.Listen(fd, listenBacklog()); err != nil {
		unix.Close(fd)
		return -1, fail("listen", err)
	}
	return fd, nil
}

// listenBacklog is the system's maximum accept queue, as the net package
// uses.
var listenBacklog = sync.OnceValue(func() int {
	b, err := os.ReadFile("/proc/sys/net/core/somaxconn")
	if err != nil {
		return unix.SOMAXCONN
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || n <= 0 {
		return unix.SOMAXCONN
	}
	return min(n, 1<<16-1)
})

func closeListener(fd int) { unix.Close(fd) }

// addListener puts l's socket in every loop's set.
func (s *loopSet) addListener(l *tcpListener) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.next++
	l.loopTok = s.next
	lns := maps.Clone(*s.lns.Load())
	lns[l.loopTok] = l
	s.lns.Store(&lns)
	ev := unix.EpollEvent{Events: unix.EPOLLIN | unix.EPOLLEXCLUSIVE, Fd: l.loopTok, Pad: evListen}
	for _, lp := range s.loops {
		if err := unix.EpollCtl(lp.ep, unix.EPOLL_CTL_ADD, l.lfd, &ev); err != nil {
			s.removeLocked(l)
			return fmt.Errorf("event loop: %w", err)
		}
	}
	return nil
}

// removeListener takes l's socket out of every loop's set and closes it
// once no loop can be using it: a loop that took an event for it before
// finds no listener for the token, and each loop has finished its
// current batch of events when it answers the barrier.
func (s *loopSet) removeListener(l *tcpListener) {
	s.mu.Lock()
	s.removeLocked(l)
	s.mu.Unlock()
	s.barrier()
	closeListener(l.lfd)
}

func (s *loopSet) removeLocked(l *tcpListener) {
	lns := maps.Clone(*s.lns.Load())
	delete(lns, l.loopTok)
	s.lns.Store(&lns)
	for _, lp := range s.loops {
		_ = unix.EpollCtl(lp.ep, unix.EPOLL_CTL_DEL, l.lfd, nil)
	}
}

// barrier returns once every running loop has finished what it was
// doing.
func (s *loopSet) barrier() {
	for _, lp := range s.loops {
		done := make(chan struct{})
		if lp.post(func() { close(done) }) {
			select {
			case <-done:
			case <-lp.exited:
			}
		}
	}
}

func (s *loopSet) listener(tok int32) *tcpListener {
	return (*s.lns.Load())[tok]
}

// evLoop is one event loop. Apart from mu and quit, its state belongs to
// its goroutine.
type evLoop struct {
	set  *loopSet
	ep   int
	wake int // eventfd

	quit   atomic.Bool
	exited chan struct{} // closed when run returns

	reqs chan func() // run by the loop; see post

	buf    []byte
	conns  slots[lconn]
	queue  []qent                 // connections by when to look at them again (roughly)
	paused map[int32]time.Time    // listeners out of the set until then
	ulns   map[int32]*udpListener // UDP listeners this loop owns, by token
	utok   int32
	uflows slots[uflow]
	warned time.Time // last accept failure logged
	now    time.Time
	sa     unix.RawSockaddrAny // for accept4 and recvfrom
	ra     rawAddr             // for sendto
}

// slots numbers what a loop holds for epoll events (the slot goes in the
// event's Fd), with a generation per slot that tells its successive
// holders apart in events reported before it was reused.
type slots[T any] struct {
	items []*T // by slot; nil when free
	gens  []uint32
	free  []int32
}

func (s *slots[T]) add(x *T) (slot int32, gen uint32) {
	if n := len(s.free); n > 0 {
		slot = s.free[n-1]
		s.free = s.free[:n-1]
	} else {
		slot = int32(len(s.items))
		s.items = append(s.items, nil)
		s.gens = append(s.gens, 0)
	}
	s.gens[slot] = (s.gens[slot] + 1) & genMask
	s.items[slot] = x
	return slot, s.gens[slot]
}

// get returns the holder of slot if it is of generation gen.
func (s *slots[T]) get(slot int32, gen uint32) *T {
	if slot < 0 || int(slot) >= len(s.items) || s.gens[slot] != gen {
		return nil
	}
	return s.items[slot]
}

func (s *slots[T]) remove(slot int32) {
	s.items[slot] = nil
	s.free = append(s.free, slot)
}

// qent is a connection in the hand-over queue.
type qent struct {
	slot int32
	gen  uint32
	due  time.Time
}

// lconn is a connection held by a loop.
type lconn struct {
	l         *tcpListener
	id        backendID
	fd        [2]int // client, backend
	slot      int32
	gen       uint32
	born      time.Time
	last      time.Time     // when it last carried data
	idle      time.Duration // how long it may stay idle in the loop
	connected bool
	leaving   bool      // its backend left the rule: hand over once connected
	want      [2]bool   // side i may have data or a FIN to read
	hup       [2]bool   // side i reported its FIN: read on after a short read
	done      [2]bool   // side i's FIN was read and passed on
	pend      [2][]byte // read from side i, not written: only at hand-over
}

func newLoop(s *loopSet) (*evLoop, error) {
	ep, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("epoll_create1: %w", err)
	}
	wake, err := unix.Eventfd(0, unix.EFD_NONBLOCK|unix.EFD_CLOEXEC)
	if err != nil {
		unix.Close(ep)
		return nil, fmt.Errorf("eventfd: %w", err)
	}
	ev := unix.EpollEvent{Events: unix.EPOLLIN, Pad: evWake}
	if err := unix.EpollCtl(ep, unix.EPOLL_CTL_ADD, wake, &ev); err != nil {
		unix.Close(ep)
		unix.Close(wake)
		return nil, fmt.Errorf("epoll_ctl: %w", err)
	}
	return &evLoop{set: s, ep: ep, wake: wake, reqs: make(chan func(), 64), exited: make(chan struct{}),
		buf: make([]byte, loopBuf), paused: make(map[int32]time.Time), ulns: make(map[int32]*udpListener)}, nil
}

func (lp *evLoop) release() {
	unix.Close(lp.ep)
	unix.Close(lp.wake)
}

// post has the loop run fn; false if the loop has stopped.
func (lp *evLoop) post(fn func()) bool {
	select {
	case lp.reqs <- fn:
		lp.wakeUp()
		return true
	case <-lp.exited:
		return false
	}
}

func (lp *evLoop) wakeUp() {
	one := [8]byte{1}
	_, _ = unix.Write(lp.wake, one[:])
}

func (lp *evLoop) run() {
	defer close(lp.exited)
	events := make([]unix.EpollEvent, 128)
	yielded := time.Now()
	for {
		if lp.quit.Load() {
			lp.shutdown()
			return
		}
		n, err := epollWait(lp.ep, events, lp.timeout())
		lp.now = time.Now()
		if err != nil && err != unix.EINTR {
			lp.set.p.log.Error("event loop: epoll_wait failed", "err", err)
			lp.shutdown()
			return
		}
		for i := range n {
			lp.dispatch(&events[i])
		}
		lp.handOver()
		lp.resume()
		lp.expireUDP()
		if lp.now.Sub(yielded) >= maxWait {
			runtime.Gosched()
			yielded = lp.now
		}
	}
}

// timeout is how long the next epoll_wait may block, in milliseconds.
func (lp *evLoop) timeout() int {
	d := maxWait
	for _, q := range lp.queue {
		if lp.conn(q) != nil {
			d = min(d, max(q.due.Sub(lp.now), time.Millisecond))
			break
		}
	}
	return int((d + time.Millisecond - 1) / time.Millisecond)
}

func (lp *evLoop) dispatch(ev *unix.EpollEvent) {
	switch kind := ev.Pad & kindMask; kind {
	case evWake:
		var b [8]byte
		_, _ = unix.Read(lp.wake, b[:])
		for {
			select {
			case fn := <-lp.reqs:
				fn()
				continue
			default:
			}
			break
		}
	case evListen:
		if l := lp.set.listener(ev.Fd); l != nil {
			lp.accept(l)
		}
	case evUDPListen:
		if l := lp.ulns[ev.Fd]; l != nil {
			lp.udpIn(l)
		}
	case evUDPFlow:
		if f := lp.uflows.get(ev.Fd, uint32(ev.Pad)>>kindBits); f != nil {
			lp.udpOut(f)
		}
	default:
		if c := lp.conn(qent{slot: ev.Fd, gen: uint32(ev.Pad) >> kindBits}); c != nil {
			lp.event(c, int(kind), ev.Events)
		}
	}
}

func (lp *evLoop) conn(q qent) *lconn { return lp.conns.get(q.slot, q.gen) }

// accept takes up to acceptBatch connections from l.
func (lp *evLoop) accept(l *tcpListener) {
	var aerr error
	for range acceptBatch {
		nfd, src, err := lp.accept4(l.lfd)
		if err != nil {
			if err != unix.EAGAIN && err != unix.ECONNABORTED && err != unix.EINTR {
				aerr = err
			}
			break
		}
		lp.start(l, nfd, src)
	}
	if aerr == nil {
		return
	}
	// Out of descriptors and the like: stop watching the socket for a
	// while (it stays readable) and try again, as net/http backs off.
	delay := 5 * time.Millisecond
	if !errors.Is(aerr, unix.EMFILE) && !errors.Is(aerr, unix.ENFILE) {
		delay = 50 * time.Millisecond
	}
	if lp.now.Sub(lp.warned) >= time.Second {
		lp.warned = lp.now
		l.p.log.Warn("accept failed", "listener", l.key.String(), "err", aerr, "retry", delay)
	}
	// EPOLL_CTL_MOD refuses a descriptor added with EPOLLEXCLUSIVE: take
	// it out, and put it back in resume.
	_ = unix.EpollCtl(lp.ep, unix.EPOLL_CTL_DEL, l.lfd, nil)
	lp.paused[l.loopTok] = lp.now.Add(delay)
}

// resume watches paused listeners again once their delay has passed.
func (lp *evLoop) resume() {
	for tok, at := range lp.paused {
		if lp.now.Before(at) {
			continue
		}
		delete(lp.paused, tok)
		l := lp.set.listener(tok)
		if l == nil {
			continue
		}
		ev := unix.EpollEvent{Events: unix.EPOLLIN | unix.EPOLLEXCLUSIVE, Fd: tok, Pad: evListen}
		_ = unix.EpollCtl(lp.ep, unix.EPOLL_CTL_ADD, l.lfd, &ev)
	}
}

// start admits an accepted connection and connects it to its backend.
func (lp *evLoop) start(l *tcpListener, cfd int, src netip.AddrPort) {
	id, ok := l.admit(src, l.key.addr)
	if !ok {
		resetFD(cfd)
		return
	}
	bfd, connected, err := dialNonblock(id.addr, l.snap.Load().rule.IdleTimeout <= 0)
	if err != nil {
		l.ctr.dialFailures.Add(1)
		resetFD(cfd)
		l.conns.Add(-1)
		return
	}
	_ = setsockoptInt(cfd, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1)
	idle := handoffIdle
	if t := l.snap.Load().rule.IdleTimeout; t > 0 {
		idle = min(idle, t/4)
	}
	c := &lconn{l: l, id: id, fd: [2]int{cfd, bfd}, born: lp.now, last: lp.now, idle: idle, connected: connected}
	lp.add(c)
	l.loopStarted(id)
	ev := unix.EpollEvent{Events: unix.EPOLLIN | unix.EPOLLOUT | unix.EPOLLRDHUP | unix.EPOLLET, Fd: c.slot}
	for side, fd := range c.fd {
		ev.Pad = int32(c.gen<<kindBits) | int32(side)
		if err := epollCtl(lp.ep, unix.EPOLL_CTL_ADD, fd, &ev); err != nil {
			lp.finish(c, true)
			return
		}
	}
	if connected {
		c.want[0] = true
	}
}

func (lp *evLoop) add(c *lconn) {
	c.slot, c.gen = lp.conns.add(c)
	lp.queue = append(lp.queue, qent{c.slot, c.gen, lp.now.Add(c.idle)})
}

func (lp *evLoop) remove(c *lconn) {
	lp.conns.remove(c.slot)
}

// event handles the events of one side of c.
func (lp *evLoop) event(c *lconn, side int, evs uint32) {
	if side == 1 && !c.connected {
		switch {
		case evs&(unix.EPOLLERR|unix.EPOLLHUP) != 0:
			c.l.ctr.dialFailures.Add(1)
			lp.finish(c, true)
			return
		case evs&unix.EPOLLOUT == 0:
			return
		}
		c.connected = true
		c.want[0] = true // the client may have spoken already
		if c.leaving {
			lp.handOff(c)
			return
		}
	}
	if evs&unix.EPOLLERR != 0 {
		lp.finish(c, true)
		return
	}
	if evs&(unix.EPOLLIN|unix.EPOLLRDHUP|unix.EPOLLHUP) != 0 {
		c.want[side] = true
	}
	if evs&(unix.EPOLLRDHUP|unix.EPOLLHUP) != 0 {
		c.hup[side] = true
	}
	if !c.connected {
		return // the client's data waits in its socket
	}
	for s := range 2 {
		if c.want[s] && !c.done[s] {
			if !lp.relay(c, s) {
				return
			}
		}
	}
	if c.done[0] && c.done[1] {
		lp.finish(c, false)
	}
}

// relay moves what side s has to the other side. It reports false when c
// left the loop (finished or handed over).
func (lp *evLoop) relay(c *lconn, s int) bool {
	src, dst := c.fd[s], c.fd[1-s]
	ctr := &c.l.ctr.bytesIn
	if s == 1 {
		ctr = &c.l.ctr.bytesOut
	}
	for {
		n, err := readFD(src, lp.buf)
		switch {
		case err == unix.EAGAIN:
			c.want[s] = false
			return true
		case err == unix.EINTR:
			continue
		case err != nil:
			lp.finish(c, true)
			return false
		case n == 0:
			c.want[s], c.done[s] = false, true
			if !c.done[1-s] {
				_ = shutdownFD(dst, unix.SHUT_WR)
			}
			return true
		}
		c.last = lp.now
		w, err := writeFD(dst, lp.buf[:n])
		if w > 0 {
			ctr.Add(uint64(w))
		}
		switch {
		case err != nil && err != unix.EAGAIN:
			lp.finish(c, true)
			return false
		case w < n:
			// The other side is not keeping up: the goroutine path
			// waits for it.
			c.pend[s] = append([]byte(nil), lp.buf[max(w, 0):n]...)
			lp.handOff(c)
			return false
		case n == len(lp.buf):
			lp.handOff(c) // bulk: splice the rest
			return false
		case !c.hup[s]:
			// A short read emptied the socket; more data is a new
			// edge. (With the FIN already reported, read it now: no
			// edge will report it again.)
			c.want[s] = false
			return true
		}
	}
}

// finish closes both sockets of c (with RST when reset) and forgets it.
func (lp *evLoop) finish(c *lconn, reset bool) {
	for _, fd := range c.fd {
		if reset {
			resetFD(fd)
		} else {
			closeFD(fd)
		}
	}
	lp.remove(c)
	c.l.loopEnded(c.id)
}

// handOver hands the connections that have been idle long enough to the
// goroutine path, and fails those that have been connecting for longer
// than the dial timeout. Each connection is looked at about once per idle
// limit: one that has been active goes to the back of the queue, due when
// it will have been idle long enough, so the queue is only roughly in
// order of due time, and a hand-over may come up to one limit late.
func (lp *evLoop) handOver() {
	i, end := 0, len(lp.queue)
	for ; i < end; i++ {
		q := lp.queue[i]
		c := lp.conn(q)
		if c == nil {
			continue
		}
		if lp.now.Before(q.due) {
			break
		}
		switch {
		case c.connected && lp.now.Sub(c.last) >= c.idle:
			lp.handOff(c)
		case c.connected:
			q.due = c.last.Add(c.idle)
			lp.queue = append(lp.queue, q)
		case lp.now.Sub(c.born) >= c.l.p.opts.DialTimeout:
			c.l.ctr.dialFailures.Add(1)
			lp.finish(c, true)
		default:
			q.due = lp.now.Add(c.idle)
			lp.queue = append(lp.queue, q)
		}
	}
	lp.queue = lp.queue[i:]
	if cap(lp.queue) > 1024 && len(lp.queue) < cap(lp.queue)/4 {
		lp.queue = append([]qent(nil), lp.queue...)
	}
}

// handOverLeavers hands over the connections of l whose backend s no
// longer lists, so that they drain on the goroutine path.
func (s *loopSet) handOverLeavers(l *tcpListener, snap *snapshot) {
	for _, lp := range s.loops {
		lp.post(func() {
			for _, c := range lp.conns.items {
				switch {
				case c == nil || c.l != l || snap.members[c.id]:
				case c.connected:
					lp.handOff(c)
				default:
					c.leaving = true // hand over once connected
				}
			}
		})
	}
}

// handOff moves c to the goroutine path.
func (lp *evLoop) handOff(c *lconn) {
	for _, fd := range c.fd {
		_ = epollCtl(lp.ep, unix.EPOLL_CTL_DEL, fd, nil)
	}
	lp.remove(c)
	client, err1 := fdConn(c.fd[0])
	backend, err2 := fdConn(c.fd[1])
	if err1 != nil || err2 != nil {
		for i, nc := range []*net.TCPConn{client, backend} {
			if nc != nil {
				reset(nc)
			} else {
				resetFD(c.fd[i])
			}
		}
		c.l.p.log.Warn("event loop: hand-over failed", "listener", c.l.key.String(), "err", errors.Join(err1, err2))
		c.l.loopEnded(c.id)
		return
	}
	f := &tcpFlow{l: c.l, id: c.id, client: client, backend: backend}
	f.act.init(client, backend)
	carry := carried{pending: c.pend, done: c.done}
	c.l.p.wg.Go(func() { c.l.run(f, carry, true) })
}

// shutdown resets every connection of the loop: the proxy is closing.
func (lp *evLoop) shutdown() {
	for _, c := range lp.conns.items {
		if c != nil {
			lp.finish(c, true)
		}
	}
	lp.queue = nil
	for _, l := range lp.ulns {
		lp.closeUDP(l)
	}
}

// fdConn turns a connected socket into a *net.TCPConn (which owns a
// duplicate of fd) and closes fd.
func fdConn(fd int) (*net.TCPConn, error) {
	f := os.NewFile(uintptr(fd), "")
	nc, err := net.FileConn(f)
	f.Close()
	if err != nil {
		return nil, err
	}
	tc, ok := nc.(*net.TCPConn)
	if !ok {
		nc.Close()
		return nil, fmt.Errorf("not a TCP socket: %T", nc)
	}
	return tc, nil
}

// dialNonblock starts connecting a non-blocking socket to addr. connected
// says the connection completed at once. keepAlive sets Go's default TCP
// keep-alive (15 s idle, 15 s interval, 9 probes), which connections
// without an idle timeout need to notice a vanished backend.
func dialNonblock(addr netip.AddrPort, keepAlive bool) (fd int, connected bool, err error) {
	family := unix.AF_INET
	if addr.Addr().Is6() {
		family = unix.AF_INET6
	}
	fd, err = socketFD(family)
	if err != nil {
		return -1, false, err
	}
	_ = setsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1)
	if keepAlive {
		_ = setsockoptInt(fd, unix.SOL_SOCKET, unix.SO_KEEPALIVE, 1)
		_ = setsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_KEEPIDLE, 15)
		_ = setsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_KEEPINTVL, 15)
		_ = setsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_KEEPCNT, 9)
	}
	switch err = connectFD(fd, addr); err {
	case nil:
		return fd, true, nil
	case unix.EINPROGRESS:
		return fd, false, nil
	default:
		closeFD(fd)
		return -1, false, err
	}
}

// Raw system calls. Every socket here is non-blocking, so none of these
// waits; RawSyscall keeps the P (a blocking Syscall lets sysmon hand it
// to another thread after 20 µs, and waking threads is what the loops
// avoid). epollWait does block, on purpose (see the package comment).

func epollWait(ep int, events []unix.EpollEvent, msec int) (int, error) {
	r, _, e := unix.RawSyscall6(unix.SYS_EPOLL_PWAIT, uintptr(ep), uintptr(unsafe.Pointer(&events[0])),
		uintptr(len(events)), uintptr(msec), 0, 0)
	if e != 0 {
		return 0, e
	}
	return int(r), nil
}

func epollCtl(ep, op, fd int, ev *unix.EpollEvent) error {
	_, _, e := unix.RawSyscall6(unix.SYS_EPOLL_CTL, uintptr(ep), uintptr(op), uintptr(fd), uintptr(unsafe.Pointer(ev)), 0, 0)
	return errnoErr(e)
}

func (lp *evLoop) accept4(fd int) (int, netip.AddrPort, error) {
	n := uint32(unsafe.Sizeof(lp.sa))
	r, _, e := unix.RawSyscall6(unix.SYS_ACCEPT4, uintptr(fd), uintptr(unsafe.Pointer(&lp.sa)),
		uintptr(unsafe.Pointer(&n)), unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0, 0)
	if e != 0 {
		return -1, netip.AddrPort{}, e
	}
	return int(r), sockaddrAddrPort(&lp.sa), nil
}

func sockaddrAddrPort(sa *unix.RawSockaddrAny) netip.AddrPort {
	switch sa.Addr.Family {
	case unix.AF_INET:
		p := (*unix.RawSockaddrInet4)(unsafe.Pointer(sa))
		return netip.AddrPortFrom(netip.AddrFrom4(p.Addr), ntohs(p.Port))
	case unix.AF_INET6:
		p := (*unix.RawSockaddrInet6)(unsafe.Pointer(sa))
		return netip.AddrPortFrom(netip.AddrFrom16(p.Addr).Unmap(), ntohs(p.Port))
	}
	return netip.AddrPort{}
}

func ntohs(p uint16) uint16 {
	b := (*[2]byte)(unsafe.Pointer(&p))
	return uint16(b[0])<<8 | uint16(b[1])
}

// rawAddr holds a socket address for raw system calls.
type rawAddr struct {
	sa4 unix.RawSockaddrInet4
	sa6 unix.RawSockaddrInet6
}

// set stores addr and returns the sockaddr to pass and its length.
func (r *rawAddr) set(addr netip.AddrPort) (unsafe.Pointer, uintptr) {
	port := [2]byte{byte(addr.Port() >> 8), byte(addr.Port())}
	if addr.Addr().Is4() {
		r.sa4.Family = unix.AF_INET
		r.sa4.Addr = addr.Addr().As4()
		r.sa4.Port = *(*uint16)(unsafe.Pointer(&port))
		return unsafe.Pointer(&r.sa4), unsafe.Sizeof(r.sa4)
	}
	r.sa6.Family = unix.AF_INET6
	r.sa6.Addr = addr.Addr().As16()
	r.sa6.Port = *(*uint16)(unsafe.Pointer(&port))
	return unsafe.Pointer(&r.sa6), unsafe.Sizeof(r.sa6)
}

func connectFD(fd int, addr netip.AddrPort) error {
	var ra rawAddr
	ptr, n := ra.set(addr)
	_, _, e := unix.RawSyscall(unix.SYS_CONNECT, uintptr(fd), uintptr(ptr), n)
	return errnoErr(e)
}

func socketFD(family int) (int, error) {
	return socketTypeFD(family, unix.SOCK_STREAM)
}

func socketTypeFD(family, typ int) (int, error) {
	r, _, e := unix.RawSyscall(unix.SYS_SOCKET, uintptr(family), uintptr(typ)|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if e != 0 {
		return -1, e
	}
	return int(r), nil
}

func setsockoptInt(fd, level, opt, v int) error {
	val := int32(v)
	_, _, e := unix.RawSyscall6(unix.SYS_SETSOCKOPT, uintptr(fd), uintptr(level), uintptr(opt),
		uintptr(unsafe.Pointer(&val)), 4, 0)
	return errnoErr(e)
}

func readFD(fd int, b []byte) (int, error) {
	r, _, e := unix.RawSyscall(unix.SYS_READ, uintptr(fd), uintptr(unsafe.Pointer(unsafe.SliceData(b))), uintptr(len(b)))
	if e != 0 {
		return 0, e
	}
	return int(r), nil
}

func writeFD(fd int, b []byte) (int, error) {
	r, _, e := unix.RawSyscall(unix.SYS_WRITE, uintptr(fd), uintptr(unsafe.Pointer(unsafe.SliceData(b))), uintptr(len(b)))
	if e != 0 {
		return 0, e
	}
	return int(r), nil
}

func shutdownFD(fd, how int) error {
	_, _, e := unix.RawSyscall(unix.SYS_SHUTDOWN, uintptr(fd), uintptr(how), 0)
	return errnoErr(e)
}

func closeFD(fd int) {
	unix.RawSyscall(unix.SYS_CLOSE, uintptr(fd), 0, 0)
}

// resetFD closes fd with a RST.
func resetFD(fd int) {
	l := unix.Linger{Onoff: 1}
	unix.RawSyscall6(unix.SYS_SETSOCKOPT, uintptr(fd), unix.SOL_SOCKET, unix.SO_LINGER,
		uintptr(unsafe.Pointer(&l)), unsafe.Sizeof(l), 0)
	closeFD(fd)
}

func errnoErr(e syscall.Errno) error {
	if e == 0 {
		return nil
	}
	return e
}
